-- A ministry's HR system (simulation of a REST/JSON system with its own field names and
-- code lists). Field names are the vendor's: so_cccd = personal ID, ho_va_ten = full name,
-- chuc_vu = position (vendor code list), ma_ngach = rank code without dots, etc.
CREATE TABLE IF NOT EXISTS nhan_su (
    ma_nhan_su          text PRIMARY KEY,           -- the system's own employee id
    so_cccd             char(12) NOT NULL UNIQUE,   -- personal identification number
    ho_va_ten           text NOT NULL,
    ngay_sinh           date NOT NULL,
    gioi_tinh           text NOT NULL CHECK (gioi_tinh IN ('Nam', 'Nữ')),
    ma_don_vi           text NOT NULL,              -- national agency code
    ten_phong_ban       text NOT NULL,
    chuc_vu             text NOT NULL,              -- vendor code: BT, TT, VT, PVT, TP, PTP, CV, KT, NV, ...
    ma_ngach            text NOT NULL,              -- e.g. 01003 for national 01.003
    bac_luong           smallint NOT NULL,
    he_so_luong         numeric(4, 2) NOT NULL,
    ky_luat_dang_xu_ly  text,                       -- pending discipline case, free text, null if none
    dia_chi_thuong_tru  text NOT NULL,
    ngay_cap_nhat       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS nhan_su_cap_nhat_idx ON nhan_su (ngay_cap_nhat, ma_nhan_su);
