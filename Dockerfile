# radqc: one image for every role (serve, api, listen, worker, migrate).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RADQC_DATA_DIR=/data RADQC_HTTP_HOST=0.0.0.0 RADQC_DICOM_HOST=0.0.0.0

RUN useradd --system --uid 10001 --home-dir /app radqc && mkdir -p /data && chown radqc /data
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY service ./service
COPY dicom_listener ./dicom_listener
COPY fhir_adapter ./fhir_adapter
COPY hl7_adapter ./hl7_adapter
COPY dicom_results ./dicom_results
COPY migrations ./migrations
# Editable install keeps migrations/ next to the packages, where `radqc migrate` finds them.
RUN pip install --no-cache-dir -e .

USER radqc
VOLUME ["/data"]
EXPOSE 8080 11112
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)" || exit 1
ENTRYPOINT ["radqc"]
CMD ["serve"]
