"""`batchapi`: a command line client for any deployment of the Serverless Batch API."""
