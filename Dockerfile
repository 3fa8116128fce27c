# modelgate: Node 24 runs the TypeScript sources directly (type stripping), so the image holds the sources and the
# production dependencies only.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
# The image's `node` user (uid 1000): never root; the root filesystem can be mounted read-only.
USER 1000:1000
EXPOSE 8080 9901
# V8 flags: see src/runtime/node-flags.ts.
ENTRYPOINT ["node", "--max-semi-space-size=16", "src/cli.ts"]
CMD ["serve", "--kube", "--host=0.0.0.0", "--admin-host=0.0.0.0"]
