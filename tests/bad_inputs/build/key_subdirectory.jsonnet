// names: 'team/x\.json'
{ grafanaDashboards:: { 'team/x.json': { uid: 'x', title: 'x', panels: [] } } }
