# A minimal static image of safesignal: the binary, CA certificates and
# nothing else; it runs as an unprivileged user.
#   docker build -t safesignal .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/safesignal ./cmd/safesignal \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/safesignal /usr/local/bin/safesignal
COPY --from=build --chown=65532:65532 /out/data /data
ENV SAFESIGNAL_DATA_DIR=/data SAFESIGNAL_HTTP_ADDR=:8080
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/safesignal"]
CMD ["serve", "--production"]
