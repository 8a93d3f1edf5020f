// Checks a consumer's `_config` against the defaults of jsonnet/config.libsonnet, the one list of
// settings: every key must be a known one (nested keys too) or be listed in `_config.extraKeys`,
// and every value must have the type of its default. `problems(config, defaults)` lists what is
// wrong, `message(problems)` says it on one line; config.libsonnet asserts on them.

// Edit distance (insert, delete, substitute) between two strings, one row per character of `a`.
// Each row is forced before the next is built: unforced rows would nest thunks deeply.
local distance(a, b) =
  local n = std.length(b);
  local nextRow(prev, ch) =
    local row = std.makeArray(n + 1, function(j)
      if j == 0 then prev[0] + 1
      else std.min(std.min(prev[j] + 1, row[j - 1] + 1), prev[j - 1] + (if ch == b[j - 1] then 0 else 1)));
    if std.length(std.filter(function(d) d < 0, row)) == 0 then row else error 'unreachable';
  std.foldl(nextRow, std.stringChars(a), std.range(0, n))[n];

// The known key nearest to `name`, ignoring case, or null when none is close (a key whose length
// differs by more than the allowed distance cannot be close: it is not measured).
local closest(name, known) =
  local allowed = std.max(2, std.floor(std.length(name) / 3));
  local lower = std.asciiLower(name);
  local nearer(best, k) =
    local d = distance(lower, std.asciiLower(k));
    if d <= allowed && (best == null || d < best.d) then { key: k, d: d } else best;
  local best = std.foldl(nearer, [k for k in known if std.abs(std.length(k) - std.length(name)) <= allowed], null);
  if best == null then null else best.key;

local show(v) =
  if std.isString(v) then 'the string %s' % std.escapeStringJson(v)
  else if std.isNumber(v) || std.isBoolean(v) then 'the %s %s' % [std.type(v), v]
  else if v == null then 'null'
  else 'an %s' % std.type(v);

local article(type) = if std.member(['array', 'object'], type) then 'an ' + type else 'a ' + type;

local join(path, key) = if path == '' then key else path + '.' + key;

// Problems of `value` at `path` (dotted, relative to _config) against its `default`; `extra`: the
// dotted paths allowed beyond the defaults.
local check(value, default, path, extra) =
  if default != null && std.type(value) != std.type(default) then [{
    unknown: false,
    text: '_config.%s must be %s (like its default), not %s' % [path, article(std.type(default)), show(value)],
  }]
  else if std.isObject(default) then
    local known = std.objectFieldsAll(default);
    // The extra keys at this level count as known names to suggest (a typo of one is a typo too).
    local prefix = join(path, '');
    local below = [std.substr(e, std.length(prefix), std.length(e)) for e in extra if std.startsWith(e, prefix)];
    local extraHere = [k for k in below if std.length(std.findSubstr('.', k)) == 0];
    [
      local suggestion = closest(k, known + extraHere);
      {
        unknown: true,
        text: '_config.%s is not a setting of this mixin (%s)' % [
          join(path, k),
          if suggestion != null then "did you mean '%s'?" % suggestion
          else if std.length(known) <= 12 then 'known here: %s' % std.join(', ', known)
          else 'see jsonnet/config.libsonnet',
        ],
      }
      for k in std.objectFieldsAll(value)
      if !std.member(known, k) && !std.member(extra, join(path, k))
    ] + std.flattenArrays([
      check(value[k], default[k], join(path, k), extra)
      for k in known
      if std.objectHasAll(value, k)
    ])
  else if std.isArray(default) && default != [] then
    // Elements are checked against what the default's elements have: the union of their keys
    // (objects, e.g. scrapeTargets) or the first one's type (scalars, e.g. dashboardTags).
    local objects = std.length([d for d in default if !std.isObject(d)]) == 0;
    local element = if objects then std.foldl(function(a, b) a + b, default, {}) else default[0];
    std.flattenArrays([
      check(value[i], element, '%s[%d]' % [path, i], extra)
      for i in std.range(0, std.length(value) - 1)
    ])
  else [];

{
  // What is wrong with `config` (the final _config) against `defaults` (config.libsonnet's own).
  problems(config, defaults)::
    local listed = if std.objectHasAll(config, 'extraKeys') then config.extraKeys else [];
    local extra = if std.isArray(listed) then listed else [];
    // extraKeys' default is empty: its elements are checked here (dotted key names, strings).
    local badExtra = [
      { unknown: false, text: '_config.extraKeys[%d] must be a string (a dotted key name), not %s' % [i, show(extra[i])] }
      for i in std.range(0, std.length(extra) - 1)
      if !std.isString(extra[i])
    ];
    badExtra + check(config, defaults, '', [e for e in extra if std.isString(e)]),

  // One line for all of them, with how to fix it.
  message(problems)::
    std.join('; ', [p.text for p in problems])
    + (
      if std.length([p for p in problems if p.unknown]) > 0
      then ' (fix the name, or list a key added on purpose in _config.extraKeys)'
      else ''
    ),
}
