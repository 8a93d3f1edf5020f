// names: {file}
{ _config:: { retention: '35d' }, prometheusRules:: { groups: [] } }
