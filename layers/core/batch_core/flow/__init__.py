"""Flow control toward upstreams: a limiter per route and model, shared by every executor through DynamoDB."""
