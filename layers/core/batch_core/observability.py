from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
# Named here, not read from the environment at import time: a module imported before the environment
# is set (tests, the local stack) must still flush its metrics.
metrics = Metrics(namespace="BatchApi")
