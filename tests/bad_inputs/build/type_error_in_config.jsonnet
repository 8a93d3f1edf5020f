// names: jsonnet/[a-z/]+\.libsonnet:\d+
(import 'mixin.libsonnet') + { _config+:: { llmMonthlyBudgetUsd: '5000' } }
