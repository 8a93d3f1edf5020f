// bo1 grafonnet-compat: dashboard.variable.query, the one variable kind the bo1 mixin builds.
{
  query:: {
    new(name, query=''):: { name: name, type: 'query', query: query },
    withDatasource(type, uid):: { datasource+: { type: type, uid: uid } },
    // `i` (1..6) wins over the other arguments when it is not 0, as in grafonnet.
    withSort(i=0, type='alphabetical', asc=true, caseInsensitive=false):: {
      sort:
        if i != 0 then i
        else if type == 'numerical' then (if asc then 3 else 4)
        else if caseInsensitive then (if asc then 5 else 6)
        else (if asc then 1 else 2),
    },
    queryTypes:: {
      withLabelValues(label, metric='')::
        { query: if metric == '' then 'label_values(%s)' % label else 'label_values(%s, %s)' % [metric, label] },
    },
    refresh:: {
      onTime():: { refresh: 2 },
    },
    generalOptions:: {
      withLabel(value):: { label: value },
      withDescription(value):: { description: value },
      // A multi-value variable stores its current text and value as arrays.
      withCurrent(key, value=key):: {
        local asMulti(v) = if std.get(self, 'multi', false) && !std.isArray(v) then [v] else v,
        current: { selected: false, text: asMulti(key), value: asMulti(value) },
      },
    },
    selectionOptions:: {
      withMulti(value=true):: { multi: value },
      withIncludeAll(value=true, customAllValue=null):: {
        includeAll: value,
        [if customAllValue != null then 'allValue']: customAllValue,
      },
    },
  },
}
