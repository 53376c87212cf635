"""The HTTP API's shared machinery: the operation registry (paths, scopes, models), the guard that
authenticates every request, the audit trail, and the OpenAPI document built from the registry."""
