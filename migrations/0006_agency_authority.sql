-- The authority an agency belongs to: the ministry (Gnn) or the province (Hpp) that the last
-- segment of its electronic identifier code names (000.SS.MM.X). Where an agency is located
-- (province_code) is not whom it answers to: the ministries sit in Hà Nội, yet a provincial
-- Department of Home Affairs administers only its own province's agencies.
ALTER TABLE agency
    ADD COLUMN authority text GENERATED ALWAYS AS (split_part(code, '.', 4)) STORED;
CREATE INDEX agency_authority_idx ON agency (authority);
