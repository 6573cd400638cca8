"""The batch service's core: wire models, rules, data access and the upstream client."""
