# The server image: Node 24 running the TypeScript sources directly, with Debian's mediasoup worker for calls,
# and the web client built in a stage of its own (its build tools stay out of the image).
FROM node:24-bookworm-slim AS web-client
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts
COPY . .
RUN node scripts/build-web-client.ts

FROM node:24-bookworm-slim

WORKDIR /app
# openssl makes the workers' DTLS certificate; the worker script adds the libraries mediasoup links against.
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates openssl \
  && rm -rf /var/lib/apt/lists/*

COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev && npm cache clean --force

COPY scripts/install-mediasoup-worker.sh scripts/apt-install.sh scripts/
RUN bash scripts/install-mediasoup-worker.sh && rm -rf /var/lib/apt/lists/*

COPY . .
COPY --from=web-client /app/e2e/app/dist e2e/app/dist
RUN mkdir -p /data && chown node:node /data

ENV NODE_ENV=production DATA_DIR=/data PORT=8080
USER node
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "server/main.ts"]
