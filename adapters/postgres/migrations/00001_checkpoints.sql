-- +goose Up
-- Each projection's checkpoint: the last stream sequence its tables hold,
-- and the version of the code that built them. A projection's own tables
-- are created by the projection (see the replay in the Go code), because a
-- new version of a projection is built into fresh tables and swapped in.
CREATE TABLE projection_checkpoints (
    name       text        PRIMARY KEY,
    sequence   bigint      NOT NULL DEFAULT 0 CHECK (sequence >= 0),
    version    integer     NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE projection_checkpoints;
