# kjobs in a container: `docker build -t kjobs .`, then
#   docker run -p 8080:8080 -e KJOBS_USERS=kie:secret -v kjobs-data:/data kjobs
# (SQLite in the volume /data), or with PostgreSQL: KJOBS_DATABASE_URL=postgres://... (see compose.yaml).
# Every setting is a KJOBS_* variable or a flag after the image name (`docker run kjobs serve --help`).

# Node.js with what better-sqlite3 needs to compile where its prebuilt binary cannot be downloaded.
FROM node:20-bookworm-slim AS toolchain
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app

# 1. Build: every dependency, then dist/ (the compiled service, its SQL migrations and the console's files).
FROM toolchain AS build
COPY package.json package-lock.json ./
# --no-workspaces: the service only, not the @kjobs/client package (packages/client) of this repository.
RUN npm ci --no-workspaces --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-assets.mjs scripts/
COPY src src
COPY console console
RUN npm run build

# 2. The production dependencies only.
FROM toolchain AS dependencies
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-workspaces --no-audit --no-fund

# 3. The image: Node.js, the production dependencies, dist/ and the kjobs command; run as the user node.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
  KJOBS_HOST=0.0.0.0 \
  KJOBS_PORT=8080 \
  KJOBS_DATABASE_URL=/data/kjobs.db
WORKDIR /app
COPY --from=dependencies /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY bin bin
RUN mkdir /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 8080
# /healthz answers without credentials, 200 while the process serves HTTP (a node that is stopping answers 503).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.KJOBS_PORT || 8080) + '/healthz').then((answer) => process.exit(answer.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/kjobs.js"]
CMD ["serve"]
