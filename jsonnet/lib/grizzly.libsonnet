// What grizzly (grr) derives from a mixin, so the mixin can agree with it.
{
  // grizzly names a mixin's folder after `grafanaDashboardFolder` with every character but letters,
  // digits, '-' and '_' dropped: 'bo1 / prod' -> 'bo1prod'.
  folderUid(title)::
    local kept = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    std.join('', [ch for ch in std.stringChars(title) if std.member(kept, ch)]),
}
