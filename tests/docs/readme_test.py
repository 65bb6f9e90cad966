#!/usr/bin/env python3
"""README.md against the programs, so it cannot drift from them.

    readme_test.py SOURCE_DIR BIN_DIR

- The five-minute tour (the README's second code block) runs as written in a scratch
  directory, with these changes only: the programs from BIN_DIR, a free port for 7443,
  `--allow-root` where the comment says so, 500 simulated devices instead of 20,000, a wait
  for the server to listen (a person waits for its line), and a wait for it to stop.
- Every command of the Programs table answers `--help` (exit 0), and every flag the row
  shows is in that usage.
The first code block (ops/quickstart, ops/test) is what CI itself runs.
"""
import os
import pathlib
import re
import socket
import subprocess
import sys
import tempfile
import unittest

PROGRAMS = ("stationctl", "station-server", "station-line")


def code_blocks(readme):
    return re.findall(r"^```sh\n(.*?)^```", readme, re.S | re.M)


def programs_table(readme):
    """The first cell of each row of the Programs table."""
    table = readme.split("| program | what it does |", 1)[1].split("\n\n", 1)[0]
    return [m.group(1) for m in re.finditer(r"^\| (`.*?`) \| ", table, re.M)]


def commands(cell):
    """The commands a cell shows: [(program, subcommand words, flags)]."""
    out, program = [], None
    for text in re.findall(r"`([^`]+)`", cell):
        text = text.replace("\\|", "|")
        words = text.split()
        if words[0] in PROGRAMS:
            program, words = words[0], words[1:]
        subs = []
        for word in words:  # "ca list|stage ..." names `ca list`; flags, TOKEN, FILE and [...] end it
            if not re.fullmatch(r"[a-z][a-z0-9|-]*", word):
                break
            subs.append(word.split("|")[0])
        if program == "station-line":
            subs = []  # station-line's --help covers its subcommands
        out.append((program, subs, sorted(set(re.findall(r"--[a-z][a-z0-9-]*", text)))))
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tour_script(block, bin_dir, port):
    """The tour as a script: the changes the module's docstring lists, and nothing else."""
    lines = []
    for line in block.replace("build/bin/", bin_dir + "/").replace("127.0.0.1:7443", f"127.0.0.1:{port}").splitlines():
        if "station-server --config" in line and line.rstrip().split("#")[0].rstrip().endswith("&"):
            if os.geteuid() == 0:  # "(as root: add --allow-root)"
                line = line.replace(" &", " --allow-root &", 1)
            lines.append(line)
            lines.append(f"for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && break; "
                         "sleep 0.1; done")
            continue
        line = line.replace("--devices 20000", "--devices 500")
        lines.append(line)
        if line.startswith("kill %1"):
            lines.append("wait")
    return "set -euo pipefail\n" + "\n".join(lines) + "\n"


class Readme(unittest.TestCase):
    def test_the_tour_runs_as_written(self):
        blocks = code_blocks(README)
        self.assertGreaterEqual(len(blocks), 2)
        tour = blocks[1]
        self.assertIn("stationctl dev-setup", tour)
        work = tempfile.mkdtemp(prefix="readme-tour-")
        script = tour_script(tour, BIN, free_port())
        done = subprocess.run(["bash", "-c", script], cwd=work, capture_output=True, text=True, timeout=240)
        self.assertEqual(0, done.returncode, script + "\n--- output ---\n" + done.stdout[-3000:] + done.stderr[-3000:])
        self.assertIn("out/device.pem: OK", done.stdout)
        self.assertIn("audit log intact", done.stdout)
        self.assertTrue(pathlib.Path(work, "allow.jsonl").exists())

    def test_every_command_and_flag_of_the_table_exists(self):
        rows = programs_table(README)
        self.assertGreater(len(rows), 20)
        problems = []
        for cell in rows:
            for program, subs, flags in commands(cell):
                self.assertIsNotNone(program, cell)
                shown = " ".join([program] + subs)
                helped = subprocess.run([f"{BIN}/{program}"] + subs + ["--help"], capture_output=True, text=True)
                if helped.returncode != 0:
                    problems.append(f"`{shown} --help` exits {helped.returncode}")
                    continue
                problems += [f"`{shown}` shows {flag}, which its --help does not know"
                             for flag in flags if flag not in helped.stdout]
        if problems:
            self.fail("\n".join([""] + problems))

    def test_a_flag_the_program_lacks_is_caught(self):
        (program, subs, flags), = commands("`stationctl audit verify --config FILE --no-such-flag`")
        self.assertEqual(("stationctl", ["audit", "verify"], ["--config", "--no-such-flag"]), (program, subs, flags))
        helped = subprocess.run([f"{BIN}/{program}"] + subs + ["--help"], capture_output=True, text=True)
        self.assertIn("--config", helped.stdout)
        self.assertNotIn("--no-such-flag", helped.stdout)


if __name__ == "__main__":
    README = pathlib.Path(sys.argv[1], "README.md").read_text()
    BIN = os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"])
