//! The OpenAPI 3.1 description of the JSON API at `/api/openapi.json`.
//! Written by hand next to the handlers in `api.rs`; a test checks that
//! every API route is described. It must never describe a route the
//! router does not serve.

use axum::Json;
use serde_json::{json, Value};

fn finding_schema() -> Value {
    json!({
        "type": "object",
        "required": ["problem", "severity", "severity_explanation", "preexisting", "locations"],
        "properties": {
            "problem": {"type": "string"},
            "severity": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
            "severity_explanation": {"type": "string"},
            "preexisting": {"type": "boolean"},
            "locations": {"type": "array", "items": {"$ref": "#/components/schemas/Location"}},
            "file": {"type": "string"}, "line_start": {"type": "integer"}, "line_end": {"type": "integer"},
            "stage": {"type": "string"}, "bug_id": {"type": ["integer", "null"]}
        }
    })
}

pub fn spec() -> Value {
    let error = json!({"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    json!({
        "openapi": "3.1.0",
        "info": {"title": "sashiko", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Automated review of Linux kernel patches: reviews of posted series (in the shape b4 reads) and the per-subsystem bug database."},
        "paths": {
            "/api/patchset": {"get": {
                "summary": "The newest reviewed version of the series containing a message",
                "parameters": [{"name": "id", "in": "query", "required": true, "description": "Message-ID of a patch or the cover letter, with or without <>", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "the series", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Patchset"}}}},
                              "400": error.clone(), "404": error.clone()}}},
            "/api/subsystems": {"get": {"summary": "Open and confirmed bugs per subsystem and severity",
                "responses": {"200": {"description": "subsystems", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "open": {"type": "object", "additionalProperties": {"type": "integer"}}, "total": {"type": "integer"}, "url": {"type": "string"}}}}}}}}}},
            "/api/bugs": {"get": {"summary": "Bugs, newest first, one page at a time (keyset pagination)",
                "parameters": [
                    {"name": "subsystem", "in": "query", "schema": {"type": "string"}},
                    {"name": "state", "in": "query", "schema": {"type": "string", "enum": ["open", "confirmed", "invalid", "fixed", "known", "duplicate"]}},
                    {"name": "before", "in": "query", "description": "next_before of the previous page", "schema": {"type": "integer"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}}],
                "responses": {"200": {"description": "a page", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BugList"}}}}, "400": error.clone()}}},
            "/api/bugs/{id}": {"get": {"summary": "One bug with its history and findings",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "the bug", "content": {"application/json": {"schema": {"type": "object", "properties": {
                    "bug": {"$ref": "#/components/schemas/Bug"}, "history": {"type": "array", "items": {"type": "object"}},
                    "findings": {"type": "array", "items": {"$ref": "#/components/schemas/Finding"}}}}}}}, "404": error}}},
            "/api/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}}
        },
        "components": {"schemas": {
            "Error": {"type": "object", "properties": {"error": {"type": "string"}}},
            "Location": {"type": "object", "properties": {"file": {"type": "string"}, "line_start": {"type": "integer"}, "line_end": {"type": "integer"}, "note": {"type": "string"}}},
            "Finding": finding_schema(),
            "Patchset": {"type": "object", "required": ["id", "message_id", "status", "patches", "reviews"], "properties": {
                "id": {"type": "integer"}, "message_id": {"type": "string"}, "subject": {"type": "string"}, "author": {"type": "string"},
                "version": {"type": "integer"}, "total": {"type": "integer"}, "url": {"type": "string"},
                "status": {"type": "string", "enum": ["Pending", "In Review", "Reviewed", "Failed", "Incomplete"]},
                "patches": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}, "message_id": {"type": "string"}, "part_index": {"type": "integer"}, "subject": {"type": "string"}, "author": {"type": "string"}}}},
                "reviews": {"type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "string"}, "review_id": {"type": "integer"}, "patch_id": {"type": "integer"},
                    "status": {"type": "string", "enum": ["In Review", "Reviewed", "Failed"]}, "result": {"type": "string"},
                    "provider": {"type": ["string", "null"]}, "model": {"type": ["string", "null"]}, "created_at": {"type": "string", "format": "date-time"},
                    "output": {"type": "string", "description": "JSON text of {\"findings\": [Finding]}; decode it (b4 uses json.loads)"},
                    "inline_review": {"type": "string", "description": "reply-style text quoting the patch lines each finding is about"}}}}}},
            "Bug": {"type": "object", "properties": {"id": {"type": "integer"}, "subsystem": {"type": "string"}, "state": {"type": "string"}, "severity": {"type": "string"},
                "title": {"type": "string"}, "file": {"type": "string"}, "line_start": {"type": "integer"}, "line_end": {"type": "integer"}, "preexisting": {"type": "boolean"},
                "duplicate_of": {"type": ["integer", "null"]}, "created_at": {"type": "string"}, "updated_at": {"type": "string"}, "url": {"type": "string"}}},
            "BugList": {"type": "object", "properties": {"bugs": {"type": "array", "items": {"$ref": "#/components/schemas/Bug"}}, "next_before": {"type": ["integer", "null"]}, "next": {"type": ["string", "null"]}}}
        }}
    })
}

pub async fn document() -> Json<Value> {
    Json(spec())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The API routes of `app::router`.
    const PATHS: [&str; 5] = [
        "/api/patchset",
        "/api/subsystems",
        "/api/bugs",
        "/api/bugs/{id}",
        "/api/openapi.json",
    ];

    #[test]
    fn every_api_path_is_described() {
        let spec = spec();
        for path in PATHS {
            assert!(
                spec["paths"].get(path).is_some(),
                "{path} missing from the OpenAPI document"
            );
        }
        assert_eq!(
            spec["paths"].as_object().map(|paths| paths.len()),
            Some(PATHS.len())
        );
    }
}
