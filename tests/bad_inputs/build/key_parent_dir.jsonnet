// names: '\.\./\.\./x\.json'
{ grafanaDashboards:: { '../../x.json': { uid: 'x', title: 'x', panels: [] } } }
