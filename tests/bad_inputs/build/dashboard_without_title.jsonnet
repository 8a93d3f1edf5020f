// names: 'x\.json'
{ grafanaDashboards:: { 'x.json': { uid: 'x', panels: [] } } }
