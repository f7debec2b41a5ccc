"""The project beside its peers, in one run, interleaved: warm query latency, ingest, cold ask.

    .venv/bin/python benchmarks/bench_peers.py [--rounds 3] [--questions 120] [--only query,ingest,cold]
                                               [--venv DIR] [--corpus DIR]

Peers, each on the same corpus (default the shipped ``corpus/``) and the same questions (the shared dev sets'
questions as people type them), with the same model (all-MiniLM-L6-v2 from its package):

- **project**: ``Searcher.search(question, top_k=10)`` warm (the question encoded each time: the query cache
  is off), on the default ONNX fp32 encoder with 1 and with 2 onnxruntime intra-op threads, and on torch;
- **LangChain**: ``langchain_huggingface.HuggingFaceEmbeddings`` (sentence-transformers on torch) +
  ``langchain_community.vectorstores.FAISS``, ``similarity_search(question, k=10)``, the documents split by
  ``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)`` (its documentation's values);
- **bare**: sentence-transformers + a ``faiss.IndexFlatIP`` over the blank-line paragraphs, ``encode`` + ``search``.

LangChain lives in a throwaway virtualenv this script creates (``--venv``, default
``~/.cache/bulletin-bot/peers-venv``; reused when present, ``--fresh-venv`` rebuilds it), never in the project's
dependencies: torch==2.13.0 is installed first and pinned (an unpinned one pulls a multi-GB CUDA build;
``--torch-pip-args`` as the Makefile's ``TORCH_PIP_ARGS``).

Each peer runs warm in its own process; the script sends each the same block of questions in turn (the order
rotating per block), so all see the same machine load. Ingest and cold ask are whole processes timed wall to
wall, also interleaved: ``bulletin-bot ingest CORPUS --rebuild`` (onnx, torch), a bare torch process that
imports sentence-transformers, loads the model and embeds the blank-line paragraphs, and LangChain's load +
split + embed + FAISS build + save. Throughput is also given per word piece (what the model runs: each
text's word pieces, special tokens included, capped at its 256 window), since the peers cut the corpus into
different pieces. Prints figures and the load of the machine; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LANGCHAIN_PACKAGES = ["langchain-community", "langchain-huggingface", "langchain-text-splitters", "faiss-cpu",
                      "sentence-transformers"]
CHUNK_SIZE, CHUNK_OVERLAP = 1000, 200
TOP_K = 10
BULLETIN_SUFFIXES = (".txt", ".md")


# -- helpers shared by the workers (stdlib only at import time) ------------------------------------------
def _paragraphs(corpus: Path) -> list[str]:
    """The blank-line paragraphs of the corpus's text bulletins: what a bare pipeline embeds."""
    out = []
    for f in sorted(corpus.iterdir()):
        if f.suffix in BULLETIN_SUFFIXES:
            out.extend(p.strip() for p in re.split(r"\n\s*\n", f.read_text(encoding="utf-8")) if p.strip())
    return out


def _word_pieces(model_dir: str, texts: list[str]) -> int:
    """Word pieces the model runs over texts: special tokens included, each text capped at its 256 window."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return sum(min(256, len(e.ids)) for e in tok.encode_batch(texts))


def _serve(search, setup: dict) -> None:
    """Worker loop: print setup, then answer {"questions": [...]} lines with per-question milliseconds."""
    print(json.dumps(setup), flush=True)
    for line in sys.stdin:
        questions = json.loads(line)["questions"]
        times = []
        for q in questions:
            t = time.perf_counter()
            search(q)
            times.append((time.perf_counter() - t) * 1000)
        print(json.dumps({"ms": times}), flush=True)


# -- workers -----------------------------------------------------------------------------------------------
def worker_project(data_dir: str) -> None:
    sys.path.insert(0, str(ROOT))
    from retrieval.encoders.factory import make_encoder
    from retrieval.search.searcher import Searcher

    encoder = make_encoder(None)
    searcher = Searcher(data_dir, encoder, cache_size=0)
    searcher.search("warm up: what fines were imposed", top_k=TOP_K)
    import faiss

    threads = getattr(encoder, "threads", None)
    torch_threads = None
    if "torch" in sys.modules:
        torch_threads = sys.modules["torch"].get_num_threads()
    _serve(lambda q: searcher.search(q, top_k=TOP_K), {"backend": getattr(encoder, "backend", "?"),
                                                       "onnx_threads": threads, "torch_threads": torch_threads,
                                                       "faiss_threads": faiss.omp_get_max_threads()})


def worker_langchain(corpus: str, model_dir: str) -> None:
    store, chunks, embeddings = _langchain_store(Path(corpus), model_dir)
    store.similarity_search("warm up: what fines were imposed", k=TOP_K)
    import faiss
    import torch

    _serve(lambda q: store.similarity_search(q, k=TOP_K), {"chunks": len(chunks), "torch_threads": torch.get_num_threads(),
                                                           "faiss_threads": faiss.omp_get_max_threads()})


def _langchain_store(corpus: Path, model_dir: str):
    from langchain_community.vectorstores import FAISS
    from langchain_community.vectorstores.utils import DistanceStrategy
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    embeddings = HuggingFaceEmbeddings(model_name=model_dir, model_kwargs={"device": "cpu"},
                                       encode_kwargs={"normalize_embeddings": True})
    docs = [Document(page_content=f.read_text(encoding="utf-8"), metadata={"source": f.name})
            for f in sorted(corpus.iterdir()) if f.suffix in BULLETIN_SUFFIXES]
    chunks = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP).split_documents(docs)
    store = FAISS.from_documents(chunks, embeddings, distance_strategy=DistanceStrategy.MAX_INNER_PRODUCT)
    return store, chunks, embeddings


def worker_bare(corpus: str, model_dir: str) -> None:
    import faiss
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_dir, device="cpu")
    paragraphs = _paragraphs(Path(corpus))
    index = faiss.IndexFlatIP(384)
    index.add(model.encode(paragraphs, batch_size=32, normalize_embeddings=True))

    def search(q: str) -> None:
        index.search(model.encode([q], normalize_embeddings=True), TOP_K)
    search("warm up: what fines were imposed")
    _serve(search, {"paragraphs": len(paragraphs), "torch_threads": torch.get_num_threads(),
                    "faiss_threads": faiss.omp_get_max_threads()})


def ingest_bare(corpus: str, model_dir: str) -> None:
    """A bare torch process: import sentence-transformers, load the model, embed the blank-line paragraphs."""
    from sentence_transformers import SentenceTransformer

    paragraphs = _paragraphs(Path(corpus))
    SentenceTransformer(model_dir, device="cpu").encode(paragraphs, batch_size=32, normalize_embeddings=True)
    print(json.dumps({"texts": len(paragraphs)}))


def ingest_langchain(corpus: str, model_dir: str, out: str) -> None:
    """LangChain's ingest: load, split, embed, build FAISS, save it."""
    store, chunks, _ = _langchain_store(Path(corpus), model_dir)
    store.save_local(out)
    print(json.dumps({"texts": len(chunks)}))


def cold_bare(model_dir: str) -> None:
    """What every torch peer pays before its first answer: import, load the model, encode one question."""
    from sentence_transformers import SentenceTransformer

    SentenceTransformer(model_dir, device="cpu").encode(["what fine did the school in Nantong get"])


# -- the orchestration ---------------------------------------------------------------------------------
def langchain_venv(path: Path, fresh: bool, torch_pip_args: list[str]) -> Path:
    """The throwaway virtualenv's python, creating the venv (torch pinned first) when it is missing."""
    python = path / "bin" / "python"
    if fresh and path.exists():
        shutil.rmtree(path)
    if python.exists() and subprocess.run([str(python), "-c", "import langchain_community, langchain_huggingface"],
                                          capture_output=True).returncode == 0:
        return python
    print(f"creating the LangChain virtualenv in {path} (once; a few minutes)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "torch==2.13.0", *torch_pip_args], check=True)
    subprocess.run([*pip, "torch==2.13.0", *LANGCHAIN_PACKAGES], check=True)
    return python


def _versions(python: Path, dists: list[str]) -> str:
    code = ("import importlib.metadata as m, sys\nfor d in sys.argv[1:]:\n"
            "    try: print(d, m.version(d))\n    except Exception: pass")
    out = subprocess.run([str(python), "-c", code, *dists], capture_output=True, text=True).stdout.split("\n")
    return ", ".join(x for x in out if x)


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def _questions(n: int) -> list[str]:
    seen: dict[str, None] = {}
    for name in ("dev_questions.jsonl", "dev2_questions.jsonl", "dev3_questions.jsonl"):
        path = ROOT.parent / "shared" / "eval" / name
        if not path.exists():
            path = Path("/work/shared/eval") / name
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    seen.setdefault(json.loads(line)["question"].strip(), None)
    questions = list(seen)
    return questions[:n] if questions else ["what fine did the school in Nantong get"] * n


class Worker:
    """A warm peer in its own process, answering blocks of questions."""

    def __init__(self, label: str, argv: list[str], env: dict[str, str]):
        self.label = label
        t = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                                     cwd=ROOT, bufsize=1)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{label}: the worker died before it was ready")
        self.setup = json.loads(line)
        self.setup_s = time.perf_counter() - t
        self.ms: list[float] = []

    def run(self, questions: list[str]) -> None:
        self.proc.stdin.write(json.dumps({"questions": questions}) + "\n")
        self.proc.stdin.flush()
        self.ms.extend(json.loads(self.proc.stdout.readline())["ms"])

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BULLETIN_BOT_") or k == "BULLETIN_BOT_ONNX_DIR"}
    env.update({"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", **extra})
    return env


def bench_query(args, lc_python: Path, data: Path, model_dir: str) -> None:
    me = [sys.executable, __file__, "--worker"]
    specs = [("project onnx, 1 thread (default)", [*me, "project", str(data)], _env()),
             ("project onnx, 2 threads", [*me, "project", str(data)], _env(BULLETIN_BOT_ONNX_THREADS="2")),
             ("project torch", [*me, "project", str(data)], _env(BULLETIN_BOT_ENCODER="torch")),
             ("LangChain FAISS", [str(lc_python), __file__, "--worker", "langchain", str(args.corpus), model_dir], _env()),
             ("bare ST + faiss", [*me, "bare", str(args.corpus), model_dir], _env())]
    questions = _questions(args.questions)
    workers = [Worker(label, argv, env) for label, argv, env in specs]
    print(f"\n## Warm query latency: {len(questions)} questions x {args.rounds} rounds, top {TOP_K}, blocks of "
          f"{args.block} interleaved (load {_load()})")
    blocks = [questions[i:i + args.block] for i in range(0, len(questions), args.block)]
    turn = 0
    for _ in range(args.rounds):
        for block in blocks:
            for w in workers[turn % len(workers):] + workers[:turn % len(workers)]:
                w.run(block)
                time.sleep(0.05)  # let a torch peer's spinning threads settle before the next peer runs
            turn += 1
    lc = next(w for w in workers if w.label.startswith("LangChain"))
    lc_p95 = _pct(lc.ms, 95)
    print("| peer | p50 (ms) | p95 (ms) | mean (ms) | p95 / LangChain's | threads | set-up (s) |")
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: |")
    for w in workers:
        s = w.setup
        threads = ", ".join(f"{k.split('_')[0]} {v}" for k, v in s.items() if k.endswith("_threads") and v is not None)
        print(f"| {w.label} | {_pct(w.ms, 50):.2f} | {_pct(w.ms, 95):.2f} | {statistics.fmean(w.ms):.2f} | "
              f"{_pct(w.ms, 95) / lc_p95:.2f} | {threads} | {w.setup_s:.1f} |")
        w.close()
    print(f"(LangChain: {lc.setup.get('chunks')} chunks; bare: {workers[-1].setup.get('paragraphs')} paragraphs; "
          f"load after: {_load()})")


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    t = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if done.returncode != 0:
        raise RuntimeError(f"{argv[:3]} failed: {done.stderr[-2000:]}")
    return wall, done.stdout


def _project_texts(data: Path) -> list[str]:
    sys.path.insert(0, str(ROOT))
    from retrieval.index.passages import PassageIndex

    index = PassageIndex.load(data)
    try:
        return [p.embedding_text for p in index.iter_passages()]
    finally:
        index.close()


def bench_ingest(args, lc_python: Path, data: Path, model_dir: str) -> None:
    cli = str(Path(sys.executable).parent / "bulletin-bot")
    work = Path(tempfile.mkdtemp(prefix="bench-peers-"))
    rebuild = [cli, "ingest", str(args.corpus), "--rebuild", "--json", "--data-dir", str(data)]
    specs = [("project ingest --rebuild (onnx, the default: 2 threads)", rebuild, _env()),
             ("project ingest --rebuild (onnx, 1 thread)", rebuild, _env(BULLETIN_BOT_ONNX_THREADS="1")),
             ("project ingest --rebuild (torch)", rebuild, _env(BULLETIN_BOT_ENCODER="torch")),
             ("bare torch process: paragraphs", [sys.executable, __file__, "--worker", "ingest-bare", str(args.corpus),
                                                 model_dir], _env()),
             ("LangChain: load, split, embed, FAISS", [str(lc_python), __file__, "--worker", "ingest-langchain",
                                                       str(args.corpus), model_dir, str(work / "lc")], _env())]
    walls: dict[str, list[float]] = {label: [] for label, _, _ in specs}
    texts: dict[str, int] = {}
    print(f"\n## Ingest, whole processes: {args.rounds} rounds interleaved (load {_load()})")
    for r in range(args.rounds):
        for label, argv, env in specs[r % len(specs):] + specs[:r % len(specs)]:
            wall, out = _timed(argv, env)
            walls[label].append(wall)
            info = json.loads(out.strip().splitlines()[-1])
            texts[label] = info.get("texts") or info.get("passages")
    project_texts = _project_texts(data)
    ours = _word_pieces(model_dir, project_texts)
    pieces = {specs[0][0]: ours, specs[1][0]: ours, specs[2][0]: ours,
              specs[3][0]: _word_pieces(model_dir, _paragraphs(args.corpus)),
              specs[4][0]: _langchain_pieces(lc_python, args.corpus, model_dir)}
    bare = statistics.median(walls[specs[3][0]])
    print("| process | texts | word pieces | wall, median (s) | texts/s | word pieces/s | x the bare torch process |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, _, _ in specs:
        wall = statistics.median(walls[label])
        print(f"| {label} | {texts[label]} | {pieces[label]} | {wall:.2f} | {texts[label] / wall:.1f} | "
              f"{pieces[label] / wall:.0f} | {wall / bare:.2f} |")
    print(f"(each round's walls: {json.dumps({k: [round(x, 2) for x in v] for k, v in walls.items()})}; load after: {_load()})")
    shutil.rmtree(work, ignore_errors=True)


def _langchain_pieces(lc_python: Path, corpus: Path, model_dir: str) -> int:
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench_peers as b, pathlib\n"
            "from langchain_text_splitters import RecursiveCharacterTextSplitter as S\n"
            f"texts = []\nfor f in sorted(pathlib.Path({str(corpus)!r}).iterdir()):\n"
            "    if f.suffix in b.BULLETIN_SUFFIXES:\n"
            f"        texts += S(chunk_size={CHUNK_SIZE}, chunk_overlap={CHUNK_OVERLAP}).split_text(f.read_text(encoding='utf-8'))\n"
            f"print(b._word_pieces({model_dir!r}, texts))")
    return int(subprocess.run([str(lc_python), "-c", code], capture_output=True, text=True, check=True).stdout)


def bench_cold(args, data: Path, model_dir: str) -> None:
    cli = str(Path(sys.executable).parent / "bulletin-bot")
    ask = [cli, "ask", "what fine did the school in Nantong get", "--json", "--data-dir", str(data)]
    specs = [("project ask (onnx, the default)", ask, _env()),
             ("project ask (torch)", ask, _env(BULLETIN_BOT_ENCODER="torch")),
             ("bare torch process: import, load, encode one question",
              [sys.executable, __file__, "--worker", "cold-bare", model_dir], _env())]
    walls: dict[str, list[float]] = {label: [] for label, _, _ in specs}
    print(f"\n## Cold: a new process answering one question, {args.rounds} rounds interleaved (load {_load()})")
    for r in range(args.rounds):
        for label, argv, env in specs[r % len(specs):] + specs[:r % len(specs)]:
            walls[label].append(_timed(argv, env)[0])
    bare = statistics.median(walls[specs[2][0]])
    print("| process | wall, median (s) | x the bare torch process |\n| --- | ---: | ---: |")
    for label, _, _ in specs:
        print(f"| {label} | {statistics.median(walls[label]):.2f} | {statistics.median(walls[label]) / bare:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--questions", type=int, default=120)
    ap.add_argument("--block", type=int, default=10, help="questions each peer answers before the next peer's turn")
    ap.add_argument("--only", default="query,ingest,cold", help="comma-separated: query, ingest, cold")
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--venv", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
                    / "bulletin-bot" / "peers-venv")
    ap.add_argument("--fresh-venv", action="store_true")
    ap.add_argument("--torch-pip-args", default=os.environ.get("TORCH_PIP_ARGS", ""))
    args = ap.parse_args()
    args.corpus = args.corpus.resolve()
    only = set(args.only.split(","))
    sys.path.insert(0, str(ROOT))
    from retrieval.encoders.factory import resolve_model
    from retrieval.ingest import ingest

    model_dir = resolve_model(None)[1]
    lc_python = langchain_venv(args.venv, args.fresh_venv, args.torch_pip_args.split())
    print(f"# bench_peers: {os.cpu_count()} cores, load {_load()}; project: "
          f"{_versions(Path(sys.executable), ['onnxruntime', 'torch', 'sentence-transformers', 'faiss-cpu'])}; "
          f"LangChain venv: {_versions(lc_python, ['langchain-community', 'langchain-huggingface', 'torch'])}")
    with tempfile.TemporaryDirectory(prefix="bench-peers-data-") as tmp:
        data = Path(tmp) / "data"
        from retrieval.encoders.factory import make_encoder

        report = ingest([args.corpus], data, make_encoder(None))
        print(f"corpus {args.corpus}: {report.passages} passages")
        if "query" in only:
            bench_query(args, lc_python, data, model_dir)
        if "ingest" in only:
            bench_ingest(args, lc_python, data, model_dir)
        if "cold" in only:
            bench_cold(args, data, model_dir)


WORKERS = {"project": worker_project, "langchain": worker_langchain, "bare": worker_bare, "ingest-bare": ingest_bare,
           "ingest-langchain": ingest_langchain, "cold-bare": cold_bare}

if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        WORKERS[sys.argv[2]](*sys.argv[3:])
    else:
        main()
