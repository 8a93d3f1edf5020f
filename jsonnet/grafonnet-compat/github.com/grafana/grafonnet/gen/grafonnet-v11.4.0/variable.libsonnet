// bo1 grafonnet-compat: dashboard.variable.{query,custom,textbox,constant,datasource,interval,adhoc}.
local util = import 'util.libsonnet';

local named(name, type) = { name: name, type: type };
local dsRef(type, uid) = { datasource+: { type: type, uid: uid } };

// Options and current value derived from key/value pairs; `current` follows a later withMulti().
local choicesFrom(pairsField) = {
  current: util.dashboard.getCurrentFromValues(self[pairsField], std.get(self, 'multi', false)),
  options: util.dashboard.getOptionsFromValues(self[pairsField]),
};

local general = {
  generalOptions:: {
    withName(value):: { name: value },
    withLabel(value):: { label: value },
    withDescription(value):: { description: value },
    showOnDashboard:: {
      withLabelAndValue():: { hide: 0 },
      withValueOnly():: { hide: 1 },
      withNothing():: { hide: 2 },
    },
    // A multi-value variable stores its current text/value as arrays.
    withCurrent(key, value=key):: {
      local asMulti(v) = if std.get(self, 'multi', false) && !std.isArray(v) then [v] else v,
      current: { selected: false, text: asMulti(key), value: asMulti(value) },
    },
  },
};

local selection = {
  selectionOptions:: {
    withMulti(value=true):: { multi: value },
    withIncludeAll(value=true, customAllValue=null):: {
      includeAll: value,
      [if customAllValue != null then 'allValue']: customAllValue,
    },
  },
};

local sortCode(type, asc, caseInsensitive) =
  if type == 'numerical' then (if asc then 3 else 4)
  else if caseInsensitive then (if asc then 5 else 6)
  else (if asc then 1 else 2);

{
  query:: general + selection + {
    new(name, query=''):: named(name, 'query') + { query: query },
    withDatasource(type, uid):: dsRef(type, uid),
    withDatasourceFromVariable(variable)::
      if variable.type == 'datasource'
      then self.withDatasource(variable.query, '${%s}' % variable.name)
      else error "`variable` not of type 'datasource'",
    withRegex(value):: { regex: value },
    withSort(i=0, type='alphabetical', asc=true, caseInsensitive=false)::
      { sort: if i != 0 then i else sortCode(type, asc, caseInsensitive) },
    queryTypes:: {
      withLabelValues(label, metric='')::
        { query: if metric == '' then 'label_values(%s)' % label else 'label_values(%s, %s)' % [metric, label] },
      withQueryResult(query):: { query: 'query_result(%s)' % query },
    },
    withRefresh(value):: { refresh: value },
    refresh:: {
      onLoad():: { refresh: 1 },
      onTime():: { refresh: 2 },
    },
  },

  custom:: general + selection + {
    // Items may be {key, value} objects or scalars (used as both key and value).
    new(name, values):: named(name, 'custom') + choicesFrom('values') + {
      values:: [
        if std.isObject(item) then item else { key: std.toString(item), value: std.toString(item) }
        for item in values
      ],
      query: std.join(',', ['%s : %s' % [item.key, item.value] for item in self.values]),
    },
    withQuery(query):: { values:: util.dashboard.parseCustomQuery(query), query: query },
  },

  textbox:: general {
    new(name, default=''):: named(name, 'textbox') + choicesFrom('keyvaluedict') + {
      local this = self,
      default:: default,
      query: self.default,
      keyvaluedict:: [{ key: this.query, value: this.query }],
    },
  },

  constant:: general {
    new(name, value=''):: named(name, 'constant') + { hide: 2, query: value },
  },

  datasource:: general + selection + {
    new(name, type):: named(name, 'datasource') + { query: type },
    withRegex(value):: { regex: value },
  },

  interval:: general {
    new(name, values):: named(name, 'interval') + choicesFrom('keyvaluedict') + {
      values:: values,
      query: std.join(',', self.values),
      keyvaluedict:: [{ key: item, value: item } for item in values],
    },
    withAutoOption(count=30, minInterval='10s'):: {
      local this = self,
      auto: true,
      auto_count: count,
      auto_min: minInterval,
      keyvaluedict:: [{ key: 'auto', value: '$__auto_interval_' + this.name }] + super.keyvaluedict,
    },
  },

  adhoc:: general {
    new(name, type, uid):: named(name, 'adhoc') + dsRef(type, uid),
    newFromDatasourceVariable(name, variable)::
      if variable.type == 'datasource'
      then self.new(name, variable.query, '${%s}' % variable.name)
      else error "`variable` not of type 'datasource'",
  },
}
