# syntax=docker/dockerfile:1
# cligate: build with dev dependencies, run with production ones only.

# Node 24, the active LTS (maintained to April 2028); 22 works too (--build-arg NODE_VERSION=22). Node 20 reached
# end of life in April 2026: cligate still runs and is tested on it (package.json engines), the image does not use it.
ARG NODE_VERSION=24

# --- build: compile TypeScript, and bundle the server into dist/main.js (scripts/bundle.js) ---
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# no install scripts: nothing cligate needs compiles on install (sharp and esbuild ship prebuilt binaries)
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# --- runtime ---
FROM node:${NODE_VERSION}-bookworm-slim AS runtime

# the vendor CLIs cligate drives, pinned (override with --build-arg)
ARG CLAUDE_CODE_VERSION=2.1.197
ARG GEMINI_CLI_VERSION=0.61.0
ARG QWEN_CODE_VERSION=0.15.10
ARG CODEX_VERSION=0.169.0

# tini as PID 1: forwards SIGTERM to node (which drains) and reaps the CLIs' orphaned grandchildren
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates git \
 && rm -rf /var/lib/apt/lists/*

RUN npm install -g --ignore-scripts --no-audit --no-fund \
      "@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}" \
      "@google/gemini-cli@${GEMINI_CLI_VERSION}" \
      "@qwen-code/qwen-code@${QWEN_CODE_VERSION}" \
      "@openai/codex@${CODEX_VERSION}" \
 && npm cache clean --force

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY public ./public
COPY sandbox ./sandbox
COPY config ./config

# the non-root "node" user (uid 1000, like most desktop logins, so mounted credential
# folders stay readable); its HOME is where ~/.claude, ~/.gemini, ~/.qwen and ~/.codex are mounted
RUN mkdir -p /data /home/node/.claude /home/node/.gemini /home/node/.qwen /home/node/.codex \
 && chown -R node:node /data /home/node
# glibc's malloc gives threads that allocate (V8's helpers, libuv's pool) arenas of their own and
# returns little of them: RSS crept ~15% over the 1000-request soak with its default, not at all with 2
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    HOME=/home/node \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/data \
    STATE_DIR=/data/state
USER node
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
