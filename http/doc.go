// Package http serves the REST API under /api/v1 (documented by the
// OpenAPI document served at /api/v1/openapi.json), health and readiness
// probes and Prometheus metrics. It maps the domain's error codes to HTTP
// status codes; nothing else in simguard knows about HTTP statuses.
//
// Every /api/v1 call but the OpenAPI document needs a bearer token.
package http
