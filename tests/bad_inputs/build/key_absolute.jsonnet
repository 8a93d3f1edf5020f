// names: '/tmp/bo1dash-absolute-x\.json'
{ grafanaDashboards:: { '/tmp/bo1dash-absolute-x.json': { uid: 'x', title: 'x', panels: [] } } }
