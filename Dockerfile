# One image per workspace, from the repository root:
#   docker build --build-arg APP=api -t subscribernest-api .
#   docker build --build-arg APP=worker -t subscribernest-worker .
#   docker build --build-arg APP=testkit --build-arg APP_DIR=packages/testkit -t subscribernest-testkit .
# (docker compose build does this for every service). `turbo prune --docker` copies exactly the
# workspaces APP depends on plus a lockfile pruned to them, so npm ci sees every manifest the
# lockfile names; the runtime stage holds APP, the workspaces it needs at run time and their
# production dependencies only. .dockerignore keeps node_modules, dist and .env files out.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS base
ENV TURBO_TELEMETRY_DISABLED=1 \
    DO_NOT_TRACK=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
WORKDIR /app

# The pruned workspace: out/json (manifests + lockfile) and out/full (sources).
FROM base AS prune
ARG APP=api
COPY . .
# turbo at the version the lockfile pins (nothing is installed yet in this stage).
RUN TURBO_VERSION="$(node -p "require('./package-lock.json').packages['node_modules/turbo'].version")" \
  && npx --yes "turbo@${TURBO_VERSION}" prune "@subscribernest/${APP}" --docker --out-dir /out

FROM base AS build
ARG APP=api
COPY --from=prune /out/json/ ./
RUN npm ci --loglevel=error
COPY --from=prune /out/full/ ./
COPY tsconfig.base.json ./
RUN npx --no-install turbo run build --filter="@subscribernest/${APP}" --output-logs=errors-only \
  && mkdir -p packages/shared/dist

FROM base AS runtime
ARG APP=api
ARG APP_DIR=apps/${APP}
ENV NODE_ENV=production \
    SN_APP=${APP}
COPY --from=prune /out/json/ ./
RUN npm ci --omit=dev --workspace="@subscribernest/${APP}" --include-workspace-root=false --loglevel=error \
  && npm cache clean --force
# Built output of APP and of the workspaces it imports at run time (shared; none for testkit).
COPY --from=build /app/${APP_DIR}/dist ${APP_DIR}/dist
COPY --from=build /app/packages/shared/dist packages/shared/dist
# Owned by node: a volume mounted here starts writable (the mail sink keeps its certificate there).
RUN mkdir -p /home/node/tls && chown node:node /home/node/tls
USER node
WORKDIR /app/${APP_DIR}
# The api listens on PORT (4000), the worker's ops port on OPS_PORT (4100): both answer /health.
EXPOSE 4000 4100
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=5 \
  CMD ["node", "-e", "const e=process.env,p=e.HEALTH_PORT||(e.SN_APP==='worker'?e.OPS_PORT||4100:e.PORT||4000);fetch('http://127.0.0.1:'+p+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
