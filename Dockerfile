# syntax=docker/dockerfile:1
#
# CanaryRoll server image (docs/operations.md, "Container image").
#
#   docker build -t canaryroll .
#   docker run -e DATABASE_URL=postgres://… -e CANARYROLL_SECRET_KEY=… -e CANARYROLL_PUBLIC_URL=https://… -p 8787:8787 canaryroll
#
# Two stages: `build` installs the workspace and bundles the server with the dashboard
# (adapters/server/scripts/bundle.ts: /out/server/main.mjs and /out/dist); `runtime` is Node
# alone with that output, run as the unprivileged `node` user. The image has no embedded
# PostgreSQL: DATABASE_URL is required (docker-compose.yml brings one).
# adapters/server/test/image/Image.int.test.ts checks this file and boots the bundle as CMD says.

ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
RUN npm install --global pnpm@12.4.2
# Dependencies first, so that a change to the sources reuses the installed layer.
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json tsconfig.base.json tsconfig.json ./
COPY packages ./packages
COPY adapters ./adapters
COPY examples ./examples
COPY bench ./bench
RUN pnpm install --frozen-lockfile
# The server and the dashboard's build (the bundle script builds the dashboard if needed).
RUN pnpm --filter @canaryroll/server run bundle /out

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8787 \
    CANARYROLL_DATA_DIR=/var/lib/canaryroll \
    CANARYROLL_SANDBOX=false
WORKDIR /app
# Owned by root and read-only to the server: only the data directory is its to write.
COPY --from=build /out /app
RUN mkdir -p /var/lib/canaryroll && chown node:node /var/lib/canaryroll && chmod 0700 /var/lib/canaryroll
VOLUME ["/var/lib/canaryroll"]
USER node
EXPOSE 8787
# Ready = the database answers, the migrations are in, the secret key opens the stored secrets.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8787) + '/api/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM: stop taking work, finish or give up the running steps, exit 0. Give it time to.
STOPSIGNAL SIGTERM
CMD ["node", "server/main.mjs"]
