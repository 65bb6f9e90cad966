#!/usr/bin/env python3
"""The Python line client (clients/python) and server reflection, against a real station over mutual TLS.

Run by ctest with STATIONCTL, STATION_SERVER and PYTHONPATH (the client, its stubs and the
reflection stubs of Debian's grpc-proto) set. A development station is made in a temporary
directory; its server is started, stopped and started again by the tests.
"""
import hashlib
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

import reflection_pb2
import reflection_pb2_grpc
from station_client import FAILED_PRECONDITION, INVALID_ARGUMENT, LineClient, SignItem, certificate_id

STATIONCTL = os.environ["STATIONCTL"]
SERVER = os.environ["STATION_SERVER"]
SOURCE = pathlib.Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_csr(directory, name):
    """A fresh P-256 key's CSR, DER, made by the openssl command."""
    key, csr = directory / f"{name}.key", directory / f"{name}.csr"
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", f"/CN={name}", "-keyout", str(key), "-outform", "DER", "-out", str(csr)],
                   check=True, capture_output=True)
    return csr.read_bytes()


class Station:
    """A development station (stationctl dev-setup) and its running server."""

    def __init__(self):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="pyclient-"))
        self.address = f"127.0.0.1:{free_port()}"
        subprocess.run([STATIONCTL, "dev-setup", "--dir", str(self.dir / "dev"), "--listen", self.address],
                       check=True, capture_output=True)
        self.conf = self.dir / "dev"
        self.process = None

    def start(self):
        log = self.dir / "server.log"
        before = log.stat().st_size if log.exists() else 0
        root = ["--allow-root"] if os.geteuid() == 0 else []
        with open(log, "ab") as out:
            self.process = subprocess.Popen([SERVER, "--config", str(self.conf / "station.conf")] + root,
                                            stderr=out)
        for _ in range(200):
            if b"listening on " in log.read_bytes()[before:]:
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("the server did not start:\n" + (self.dir / "server.log").read_text())

    def stop(self):
        self.process.terminate()
        code = self.process.wait(timeout=60)
        assert code == 0, f"the server exited {code}"

    def kill(self):
        self.process.kill()
        self.process.wait(timeout=60)

    def client(self, **options):
        return LineClient.from_line_conf(self.conf / "line.conf", **options)


class LineClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.station = Station()
        cls.station.start()
        cls.work = cls.station.dir

    @classmethod
    def tearDownClass(cls):
        cls.station.stop()
        # Everything issued here (retries included) is in a log that verifies.
        subprocess.run([STATIONCTL, "audit", "verify", "--config", str(cls.station.conf / "station.conf")],
                       check=True, capture_output=True)

    def verify_chain(self, result, name):
        pem = self.work / f"{name}.pem"
        pem.write_text(result.certificate_pem())
        chain = self.work / f"{name}-chain.pem"
        chain.write_text(result.certificate_pem().split("-----END CERTIFICATE-----\n", 1)[1])
        verified = subprocess.run(["openssl", "verify", "-CAfile", str(self.station.conf / "ca" / "roots.pem"),
                                   "-untrusted", str(chain), str(pem)], capture_output=True, text=True)
        self.assertEqual(0, verified.returncode, verified.stdout + verified.stderr)

    def test_signs_a_stream_of_csrs_through_tls(self):
        items = [SignItem(csr_der=make_csr(self.work, f"py-{i}"), device_id=f"py-{i}") for i in range(12)]
        with self.station.client(window=4) as client:
            results = client.sign_all(items)
            chain = client.ca_chain()
        self.assertEqual(12, len(results))
        for item in items:
            result = results[item.request_id]
            self.assertTrue(result.ok, f"{result.reason}: {result.message}")
            self.assertEqual(1, result.attempts)
            self.assertEqual(hashlib.sha256(result.certificate_der).hexdigest(), result.certificate_id)
            self.assertEqual(certificate_id(result.certificate_der), result.certificate_id)
            self.assertEqual(chain, result.chain_der)
        self.verify_chain(results[items[0].request_id], "py-0")
        self.assertEqual(12, len({r.serial_hex for r in results.values()}))

    def test_a_retry_returns_the_first_certificate(self):
        item = SignItem(csr_der=make_csr(self.work, "again"), device_id="again")
        with self.station.client() as client:
            first = client.sign(item)
            second = client.sign(item)
            other_csr = SignItem(csr_der=make_csr(self.work, "again-2"), device_id="again",
                                 request_id=item.request_id)
            reused = client.sign(other_csr)
        self.assertTrue(first.ok, first.reason)
        self.assertEqual(first.certificate_der, second.certificate_der)
        self.assertEqual(first.audit_seq, second.audit_seq)
        self.assertEqual((FAILED_PRECONDITION, "REQUEST_ID_REUSED", 1), (reused.code, reused.reason, reused.attempts))

    def test_a_final_refusal_is_not_retried(self):
        with self.station.client() as client:
            result = client.sign(SignItem(csr_der=b"\x30\x03\x02\x01\x00", device_id="bad"))
        self.assertEqual((INVALID_ARGUMENT, "CSR_MALFORMED", 1), (result.code, result.reason, result.attempts))

    def test_waits_for_a_station_that_is_down(self):
        self.station.stop()
        items = [SignItem(csr_der=make_csr(self.work, f"late-{i}"), device_id=f"late-{i}") for i in range(3)]
        restart = threading.Timer(1.5, self.station.start)
        restart.start()
        try:
            with self.station.client(timeout_s=60) as client:
                results = client.sign_all(items)
        finally:
            restart.join()
        for result in results.values():
            self.assertTrue(result.ok, f"{result.reason}: {result.message}")

    def test_retries_what_a_crashed_station_left_unanswered(self):
        items = [SignItem(csr_der=make_csr(self.work, f"cut-{i}"), device_id=f"cut-{i}") for i in range(60)]
        answered = []
        restarted = threading.Event()

        def kill_and_start():
            self.station.kill()
            self.station.start()
            restarted.set()

        def on_answer(result):  # the station is killed after the tenth answer, and comes back
            answered.append(result)
            if len(answered) == 10:
                threading.Thread(target=kill_and_start).start()
        with self.station.client(window=1, timeout_s=60) as client:
            results = client.sign_all(items, on_answer=on_answer)
        self.assertTrue(restarted.wait(60))
        for result in results.values():
            self.assertTrue(result.ok, f"{result.reason}: {result.message}")
        self.assertTrue(any(r.attempts > 1 for r in results.values()), "nothing was retried")
        self.assertEqual(60, len({r.serial_hex for r in results.values()}))

    def test_the_example_signs_and_writes_pem(self):
        csr = self.work / "example-1.csr"
        make_csr(self.work, "example-1")
        out = self.work / "example-out"
        done = subprocess.run([sys.executable, str(SOURCE / "clients/python/examples/sign_csrs.py"), "--config",
                               str(self.station.conf / "line.conf"), "--out", str(out), f"example-1={csr}"],
                              capture_output=True, text=True, env=os.environ)
        self.assertEqual(0, done.returncode, done.stdout + done.stderr)
        self.assertRegex(done.stdout, r"^example-1 ok [0-9a-f]+\n$")
        self.assertIn("BEGIN CERTIFICATE", (out / "example-1.pem").read_text())


class ReflectionTest(unittest.TestCase):
    """What grpcurl does: learn the services from the server, then call one it knew nothing of."""

    @classmethod
    def setUpClass(cls):
        cls.station = Station()
        cls.station.start()
        conf = cls.station.conf
        credentials = grpc.ssl_channel_credentials((conf / "tls/tls-ca.pem").read_bytes(),
                                                   (conf / "tls/line-1.key").read_bytes(),
                                                   (conf / "tls/line-1.pem").read_bytes())
        cls.channel = grpc.secure_channel(cls.station.address, credentials)
        cls.reflection = reflection_pb2_grpc.ServerReflectionStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.station.stop()

    def ask(self, **request):
        answers = list(self.reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(**request)]),
                                                            timeout=30))
        self.assertEqual(1, len(answers))
        self.assertFalse(answers[0].HasField("error_response"), answers[0].error_response.error_message)
        return answers[0]

    def test_lists_the_services(self):
        names = {s.name for s in self.ask(list_services="").list_services_response.service}
        self.assertLessEqual({"station.v1.LineSigner", "station.v1.Officer", "grpc.health.v1.Health"}, names)

    def test_calls_a_method_it_learned_from_the_server(self):
        answer = self.ask(file_containing_symbol="station.v1.LineSigner")
        pool = descriptor_pool.DescriptorPool()
        for raw in answer.file_descriptor_response.file_descriptor_proto:
            pool.Add(descriptor_pb2.FileDescriptorProto.FromString(raw))
        service = pool.FindServiceByName("station.v1.LineSigner")
        self.assertEqual({"SignStream", "Sign", "GetCaChain"}, {m.name for m in service.methods})
        stream = service.methods_by_name["SignStream"]
        self.assertTrue(stream.client_streaming and stream.server_streaming)
        method = service.methods_by_name["GetCaChain"]
        request_class = message_factory.MessageFactory(pool).GetPrototype(method.input_type)
        response_class = message_factory.MessageFactory(pool).GetPrototype(method.output_type)
        call = self.channel.unary_unary("/station.v1.LineSigner/GetCaChain",
                                        request_serializer=request_class.SerializeToString,
                                        response_deserializer=response_class.FromString)
        chain = list(call(request_class(), timeout=30).chain_der)
        with self.station.client() as client:
            self.assertEqual(client.ca_chain(), chain)
        self.assertTrue(chain)


if __name__ == "__main__":
    unittest.main(verbosity=2)
