# modelgate: the image runs dist/ (the sources built to plain JavaScript by `npm run build`, see scripts/build.ts)
# with the production dependencies only.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm ci --ignore-scripts --no-audit --no-fund && node scripts/build.ts

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
# The image's `node` user (uid 1000): never root; the root filesystem can be mounted read-only.
USER 1000:1000
EXPOSE 8080 9901
# V8 flags: see src/runtime/node-flags.ts.
ENTRYPOINT ["node", "--max-semi-space-size=16", "--heap-growing-percent=30", "dist/cli.js"]
CMD ["serve", "--kube", "--host=0.0.0.0", "--admin-host=0.0.0.0"]
