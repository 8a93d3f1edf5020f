"""bo1dash: compile, lint, provision and verify the bo1 Grafana dashboards mixin."""
