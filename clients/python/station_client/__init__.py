"""The signing station's line client: LineClient streams CSRs, retrying on the same request_id.

Needs python3-grpcio and the stubs the build generates from proto/station/v1/station.proto
(build/python): PYTHONPATH=clients/python:build/python. See clients/python/README.md.
"""
from station_client.line_client import (ABORTED, FAILED_PRECONDITION, INTERNAL, INVALID_ARGUMENT, OK,
                                        PERMISSION_DENIED, RESOURCE_EXHAUSTED, RETRYABLE, UNAVAILABLE,
                                        LineClient, SignItem, SignResult, certificate_id)

__all__ = ["LineClient", "SignItem", "SignResult", "certificate_id", "RETRYABLE", "OK", "INVALID_ARGUMENT",
           "PERMISSION_DENIED", "FAILED_PRECONDITION", "RESOURCE_EXHAUSTED", "ABORTED", "INTERNAL", "UNAVAILABLE"]
