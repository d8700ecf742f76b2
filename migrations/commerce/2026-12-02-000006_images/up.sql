-- A product's images, in display order. The bytes (the original and its
-- w200 and w600 thumbnails) are objects of the service's storage under
-- products/<product_id>/<id>/; a row names what was stored.
CREATE TABLE product_images (
    id UUID PRIMARY KEY,
    product_id UUID NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    -- 0, 1, 2, ... without gaps: deleting one renumbers those after it.
    position INTEGER NOT NULL CHECK (position >= 0),
    -- Read from the bytes, never from the client's header.
    content_type TEXT NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp')),
    -- Thumbnails are JPEG, or PNG when the image has transparency.
    thumbnail_type TEXT NOT NULL CHECK (thumbnail_type IN ('image/png', 'image/jpeg')),
    width INTEGER NOT NULL CHECK (width > 0),
    height INTEGER NOT NULL CHECK (height > 0),
    byte_size BIGINT NOT NULL CHECK (byte_size > 0),
    -- Hex SHA-256 prefix of the original: the content's name in ETags.
    digest TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Deferred: a reorder rewrites every position in one statement.
    CONSTRAINT product_images_position_key UNIQUE (product_id, position) DEFERRABLE INITIALLY DEFERRED
);
