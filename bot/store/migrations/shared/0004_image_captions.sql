-- toolcord conversation store, schema version 4: images a conversation keeps working on.
-- caption: a short description the model is told (who posted it, or which tool made it and from
-- what prompt). original: the bytes a tool returned, kept when they differ from the downscaled
-- copy the model sees (``data``), so an edit starts from the full image, not the preview.
ALTER TABLE images ADD COLUMN caption TEXT NOT NULL DEFAULT '';
ALTER TABLE images ADD COLUMN original {{BYTES}};
