"""A line controller's client of the signing station, for integrators who do not write C++.

    client = LineClient.from_line_conf("line.conf")
    results = client.sign_all([SignItem(csr_der=csr, device_id="dev-1", profile="aws-iot-device")])

Every item carries a request_id, chosen once (a UUID unless the caller gives
one) and sent again unchanged on every retry: the station answers a retry with
the certificate it issued the first time, so retrying never issues twice.
Items the station could not serve now (UNAVAILABLE, RESOURCE_EXHAUSTED,
ABORTED: token busy, queue full, database failing over, station restarting)
are retried with backoff; every other answer is final and returned as it came.
"""
import base64
import dataclasses
import hashlib
import os
import threading
import time
import tomllib
import uuid

import grpc

from station.v1 import station_pb2, station_pb2_grpc

OK, INVALID_ARGUMENT, PERMISSION_DENIED, FAILED_PRECONDITION = 0, 3, 7, 9
RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE = 8, 10, 13, 14
# Answers that mean "not now": the same request_id may be sent again.
RETRYABLE = {RESOURCE_EXHAUSTED, ABORTED, UNAVAILABLE}
RETRYABLE_RPC = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.ABORTED,
                 grpc.StatusCode.DEADLINE_EXCEEDED}


@dataclasses.dataclass
class SignItem:
    """One device's request. The fields are SignRequest's (proto/station/v1/station.proto)."""
    csr_der: bytes
    device_id: str = ""
    profile: str = ""
    attributes: dict = dataclasses.field(default_factory=dict)
    thing_name: str = ""
    thing_type: str = ""
    thing_attributes: dict = dataclasses.field(default_factory=dict)
    request_id: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)

    def to_proto(self):
        return station_pb2.SignRequest(request_id=self.request_id, csr_der=self.csr_der, profile=self.profile,
                                       device_id=self.device_id, attributes=self.attributes,
                                       thing_name=self.thing_name, thing_type=self.thing_type,
                                       thing_attributes=self.thing_attributes)


@dataclasses.dataclass
class SignResult:
    """The station's last answer to one item, and how many times it was sent."""
    request_id: str
    code: int
    reason: str
    message: str
    certificate_der: bytes = b""
    chain_der: list = dataclasses.field(default_factory=list)
    serial_hex: str = ""
    certificate_id: str = ""
    audit_seq: int = 0
    attempts: int = 0

    @property
    def ok(self):
        return self.code == OK

    @staticmethod
    def from_proto(answer, attempts):
        return SignResult(answer.request_id, answer.code, answer.reason, answer.message, answer.certificate_der,
                          list(answer.chain_der), answer.serial_hex, answer.certificate_id, answer.audit_seq, attempts)

    def certificate_pem(self):
        """The certificate and its chain (issuing CA first), PEM: what a device stores."""
        return "".join(_pem(der) for der in [self.certificate_der] + self.chain_der)


def _pem(der):
    body = base64.b64encode(der).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


class LineClient:
    """One line's connection to the station, over mutual TLS with the line's certificate."""

    def __init__(self, target, ca_pem, cert_pem, key_pem, *, window=64, attempts=8, backoff_s=0.2,
                 max_backoff_s=5.0, timeout_s=300.0, server_name=None):
        """target: HOST:PORT; ca_pem: the station's TLS CA; cert_pem, key_pem: the line's client pair.
        window: requests in flight on one stream; attempts: sends per item at most; timeout_s: for one
        sign_all, retries included."""
        if window < 1 or attempts < 1 or timeout_s <= 0:
            raise ValueError("window and attempts are at least 1, timeout_s above 0")
        credentials = grpc.ssl_channel_credentials(root_certificates=ca_pem, private_key=key_pem,
                                                   certificate_chain=cert_pem)
        # A station that restarts or fails over is tried again within a second, not after gRPC's
        # default backoff of up to two minutes: the line is waiting.
        options = [("grpc.initial_reconnect_backoff_ms", 200), ("grpc.min_reconnect_backoff_ms", 200),
                   ("grpc.max_reconnect_backoff_ms", 1000)]
        if server_name:
            options.append(("grpc.ssl_target_name_override", server_name))
        self._channel = grpc.secure_channel(target, credentials, options)
        self._stub = station_pb2_grpc.LineSignerStub(self._channel)
        self.window, self.attempts, self.timeout_s = window, attempts, timeout_s
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s

    @classmethod
    def from_line_conf(cls, path, **options):
        """The target and TLS files of a station-line config (line.conf, as dev-setup writes it)."""
        with open(path, "rb") as f:
            conf = tomllib.load(f)
        tls = conf.get("tls", {})
        here = os.path.dirname(os.path.abspath(path))

        def read(name):  # a relative path is relative to the config, as station-line reads it
            with open(os.path.join(here, tls[name]), "rb") as f:
                return f.read()
        return cls(conf["target"], read("ca"), read("cert"), read("key"), **options)

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def ca_chain(self):
        """The active issuing CA's chain, issuing CA first, DER."""
        return list(self._stub.GetCaChain(station_pb2.GetCaChainRequest(), timeout=self.timeout_s).chain_der)

    def sign(self, item):
        """One item, with retries: its SignResult."""
        return self.sign_all([item])[item.request_id]

    def sign_all(self, items, on_answer=None):
        """Streams every item, retrying what the station could not serve now with the same request_id.
        A station that is down or restarting is waited for (within timeout_s). on_answer(SignResult), if
        given, sees each answer as it arrives (a progress display). Returns {request_id: SignResult}; an
        item never answered has code UNAVAILABLE, reason NO_ANSWER."""
        ids = [item.request_id for item in items]
        if len(set(ids)) != len(ids):
            raise ValueError("two items share a request_id")
        deadline = time.monotonic() + self.timeout_s
        results = {}
        attempts = {rid: 0 for rid in ids}
        pending = list(items)
        delay = self.backoff_s
        while pending:
            for item in pending:
                attempts[item.request_id] += 1
            for answer in self._one_stream(pending, deadline, on_answer, attempts):
                results[answer.request_id] = answer
            pending = [item for item in pending
                       if item.request_id not in results or results[item.request_id].code in RETRYABLE]
            pending = [item for item in pending if attempts[item.request_id] < self.attempts]
            if not pending or time.monotonic() + delay >= deadline:
                break
            time.sleep(delay)
            delay = min(delay * 2, self.max_backoff_s)
        for rid in ids:
            results.setdefault(rid, SignResult(rid, UNAVAILABLE, "NO_ANSWER", "the station did not answer",
                                               attempts=attempts[rid]))
        return results

    def _one_stream(self, items, deadline, on_answer, attempts):
        """One SignStream with at most `window` requests unanswered; the SignResults it got.
        A stream the station or the network ends early is not an error: what it left unanswered is retried."""
        answers = {}
        room = threading.Semaphore(self.window)
        done = threading.Event()

        def requests():
            for item in items:
                while not room.acquire(timeout=0.1):
                    if done.is_set():
                        return
                if done.is_set():
                    return
                yield item.to_proto()

        # wait_for_ready: a station that is down is waited for, up to the deadline, not failed at once.
        call = self._stub.SignStream(requests(), timeout=max(0.001, deadline - time.monotonic()),
                                     wait_for_ready=True)
        try:
            for answer in call:
                result = SignResult.from_proto(answer, attempts.get(answer.request_id, 0))
                answers[answer.request_id] = result
                room.release()
                if on_answer:
                    on_answer(result)
                if len(answers) == len(items):
                    break
        except grpc.RpcError as e:
            if e.code() not in RETRYABLE_RPC:
                raise
        finally:
            done.set()
            call.cancel()
        return answers.values()


def certificate_id(der):
    """AWS IoT's certificate ID: the lowercase hex SHA-256 of the DER (SignResponse.certificate_id)."""
    return hashlib.sha256(der).hexdigest()
