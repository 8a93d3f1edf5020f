// names: 'api\.yaml'
{ grafanaDashboards:: { 'api.yaml': { uid: 'x', title: 'x', panels: [] } } }
