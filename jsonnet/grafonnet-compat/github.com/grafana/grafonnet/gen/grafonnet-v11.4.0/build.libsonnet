// bo1 grafonnet-compat: tiny builders shared by every namespace of this subset.
// A setter returns a patch object that nests `value` under `path` with `+:` merges, so
// patches compose with `+` exactly like grafonnet's generated setters do.
local nestIn(keys, inner) =
  std.foldr(function(key, acc) { [key]+: acc }, keys, inner);

local lastOf(path) = path[std.length(path) - 1];
local parentOf(path) = path[0:std.length(path) - 1];

{
  // A scalar or object is wrapped into a one-element array (grafonnet's list setters do this).
  asArray(v):: if std.isArray(v) then v else [v],

  // Replace the value at `path`.
  put(path, value):: nestIn(parentOf(path), { [lastOf(path)]: value }),

  // Merge `value` into the object or array at `path`.
  add(path, value):: nestIn(parentOf(path), { [lastOf(path)]+: value }),

  // Array field: replace, or append with `addList`.
  putList(path, value):: self.put(path, self.asArray(value)),
  addList(path, value):: self.add(path, self.asArray(value)),
}
+ {
  // Setter factories: `set(base, key)` is a function(value) writing `key` under `base`.
  // Setters with a default take the same default grafonnet v11.4.0 gives that argument.
  set(base, key):: function(value) $.put(base + [key], value),
  setOr(base, key, default):: function(value=default) $.put(base + [key], value),
  mix(base, key):: function(value) $.add(base + [key], value),
  list(base, key):: function(value) $.putList(base + [key], value),
  listMix(base, key):: function(value) $.addList(base + [key], value),
}
