// names: 'api\.json'
{ grafanaDashboards:: { 'api.json': 'the api dashboard' } }
