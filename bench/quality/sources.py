"""Third-party data for the benchmarks: read from local snapshots, kept in the cache.

A *snapshot* is a local copy of a public repository: a checkout folder, or a git directory
without a work tree (files are then read from its HEAD). Nothing read here is committed, except
the small Wikipedia misspelling subset (CC BY-SA 4.0, attributed in its file).

Commands::

    python -m bench.quality.sources reports --snapshot DIR       # IU reports not in shared/
    python -m bench.quality.sources misspellings --snapshot DIR  # rebuild the committed subset
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
from pathlib import Path

from bench.quality.common import CACHE, HERE, SHARED

# The IU chest X-ray reports of Open-i (CC BY-NC-ND 4.0): shared/ holds the odd-numbered ones;
# the even-numbered ones were never in shared/, so no detector list was built from them.
IU_SNAPSHOT = (
    "SaadSubhaniTheProgrammerVersion/Textual-Report-Generation-from-Chest-X-rays-Indiana-Dataset"
)
IU_FILE = "indiana_reports.csv"
IU_UNSEEN = CACHE / "reports" / "iu_even_reports.csv"
WIKI_SNAPSHOT = "streetsidesoftware/cspell-dicts"
WIKI_FILE = "dictionaries/en-common-misspellings/src/wikipedia/src.txt"
WIKI_SUBSET = HERE / "data" / "wikipedia_misspellings.tsv"


class Snapshot:
    """Files of a repository snapshot: a plain folder or a git directory (read at HEAD)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.git_dir = self._git_dir(root)

    @staticmethod
    def _git_dir(root: Path) -> Path | None:
        if (root / ".git").is_dir():
            return root / ".git"
        if (root / "HEAD").is_file() and (root / "objects").is_dir():
            return root
        return None

    def read(self, path: str) -> bytes:
        if self.git_dir is None:
            return (self.root / path).read_bytes()
        return subprocess.run(
            ["git", "--git-dir", str(self.git_dir), "show", f"HEAD:{path}"],
            capture_output=True,
            check=True,
        ).stdout

    def commit(self) -> str:
        if self.git_dir is None:
            return "folder"
        return subprocess.run(
            ["git", "--git-dir", str(self.git_dir), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    def listing(self, folder: str) -> list[str]:
        if self.git_dir is None:
            base = self.root / folder
            return sorted(str(p.relative_to(self.root)) for p in base.rglob("*") if p.is_file())
        out = subprocess.run(
            ["git", "--git-dir", str(self.git_dir), "ls-tree", "-r", "--name-only", "HEAD", folder],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return out.split()


def cache_unseen_reports(snapshot: Snapshot) -> int:
    """Write the even-numbered IU reports (never in shared/) to the cache; return how many."""
    text = snapshot.read(IU_FILE).decode("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    shared = {row["uid"] for row in _shared_iu_rows()}
    kept = [r for r in rows if int(r["uid"]) % 2 == 0 and f"CXR{r['uid']}" not in shared]
    IU_UNSEEN.parent.mkdir(parents=True, exist_ok=True)
    with IU_UNSEEN.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(kept)
    return len(kept)


def _shared_iu_rows() -> list[dict[str, str]]:
    with (SHARED / "data/reports/iu_openi_cxr_reports.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def _report_words() -> set[str]:
    words: set[str] = set()
    texts = [r["findings"] + " " + r["impression"] for r in _shared_iu_rows()]
    if IU_UNSEEN.exists():
        with IU_UNSEEN.open(newline="") as handle:
            texts += [r["findings"] + " " + r["impression"] for r in csv.DictReader(handle)]
    with (SHARED / "data/reports/mtsamples_radiology.csv").open(newline="") as handle:
        texts += [r["findings"] + " " + r["impression"] for r in csv.DictReader(handle)]
    for text in texts:
        words.update(re.findall(r"[a-z]{4,}", text.lower()))
    return words


def write_misspelling_subset(snapshot: Snapshot) -> int:
    """The Wikipedia entries whose correct word occurs in the report bases, as a TSV."""
    words = _report_words()
    pairs = []
    for line in snapshot.read(WIKI_FILE).decode("utf-8").splitlines():
        if "->" not in line or line.startswith("#"):
            continue
        wrong, rights = line.split("->", 1)
        for right in (r.strip() for r in rights.split(",")):
            if right.islower() and right.isalpha() and right in words and wrong.isalpha():
                pairs.append((wrong.strip(), right))
    header = (
        "# Subset of Wikipedia:Lists of common misspellings/For machines\n"
        "# (https://en.wikipedia.org/wiki/Wikipedia:Lists_of_common_misspellings/For_machines),\n"
        f"# via {WIKI_SNAPSHOT} ({WIKI_FILE}, commit {snapshot.commit()[:12]}).\n"
        "# Licence: CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/); this file is\n"
        "# an adaptation under the same licence: only entries whose correct word occurs in the\n"
        "# benchmark's report bases are kept. Columns: misspelling, correct word.\n"
    )
    WIKI_SUBSET.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{w}\t{r}\n" for w, r in sorted(set(pairs), key=lambda p: (p[1], p[0])))
    WIKI_SUBSET.write_text(header + body)
    return len(set(pairs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("reports", "misspellings"))
    parser.add_argument("--snapshot", type=Path, required=True, help="local snapshot folder")
    args = parser.parse_args()
    snapshot = Snapshot(args.snapshot)
    if args.what == "reports":
        print(f"{cache_unseen_reports(snapshot)} unseen IU reports written to {IU_UNSEEN}")
    else:
        print(f"{write_misspelling_subset(snapshot)} misspelling pairs written to {WIKI_SUBSET}")


if __name__ == "__main__":
    main()
