"""Request ids, logs and metrics: what lets one find a request and all the
work it caused, in the API's and the workers' logs and on a dashboard."""
