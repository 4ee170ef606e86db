FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY apps apps
COPY libs libs
COPY schemas schemas
COPY bench bench
COPY test/fixtures test/fixtures
COPY test/support test/support
RUN npm ci && npm prune --omit=dev
COPY config config
# The shipped console users are for a developer machine only: the image carries none (mount a users file, SVU_USERS).
RUN rm -f config/users.json
ENV NODE_ENV=production
EXPOSE 8080
CMD ["node", "dist/apps/gateway/src/main.js"]
