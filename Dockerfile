# syntax=docker/dockerfile:1
# The SVU gateway image: every service in one image, chosen per container with SVU_SERVICES.
# Build: docker build -t svu-gateway . — see docs/deploy.md. Checked by hadolint in CI where it is installed.

# ---- build: all dependencies, compile TypeScript to dist/ -------------------------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
# --ignore-scripts: `prepare` would build before the sources are here; the build runs below.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY schemas schemas
COPY libs libs
COPY apps apps
COPY bench bench
COPY test/fixtures test/fixtures
# The benchmarks compiled with the rest use the test harness.
COPY test/support test/support
RUN npm run build

# ---- production dependencies only ------------------------------------------------------------------
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

# ---- runtime -----------------------------------------------------------------------------------------
FROM node:22-bookworm-slim
# DejaVu fonts for the fallback PDF documents.
RUN apt-get update \
  && apt-get install -y --no-install-recommends fonts-dejavu-core=2.* \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    PORT=8080 \
    SVU_DIRECTORY=/app/config/directory.json \
    SVU_REPORT_RULES=/app/config/report-rules.json \
    SVU_FALLBACK_CONFIG=/app/config/fallback.json \
    SVU_USERS=/run/secrets/svu-users
COPY --from=deps --chown=root:root /app/node_modules node_modules
COPY --chown=root:root package.json ./
# Only the compiled code (no bench/ or test/), the console's static files and the schemas.
COPY --from=build --chown=root:root /src/dist/apps dist/apps
COPY --from=build --chown=root:root /src/dist/libs dist/libs
COPY --from=build --chown=root:root /src/dist/schemas dist/schemas
COPY --chown=root:root apps/gateway/ui apps/gateway/ui
COPY --chown=root:root schemas schemas
# Sample configuration without credentials: console users and sender credentials are mounted
# (compose: files under /run/secrets; Kubernetes: Secrets), never baked into the image.
COPY --chown=root:root config/directory.json config/report-rules.json config/fallback.json config/
# The code and configuration belong to root and are read-only for the process; it runs as `node`.
USER node
EXPOSE 8080
# /health/ready on PORT, over HTTPS when SVU_TLS_CERT and SVU_TLS_KEY are set (docs/deploy.md).
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "dist/apps/gateway/src/healthcheck.js", "/health/ready"]
CMD ["node", "dist/apps/gateway/src/main.js"]
