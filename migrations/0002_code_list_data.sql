-- Code list contents. Provinces after 1 July 2025 and the pre-merger crosswalk.
INSERT INTO province (code, name) VALUES
 ('01','Thành phố Hà Nội'),('04','Tỉnh Cao Bằng'),('08','Tỉnh Tuyên Quang'),('11','Tỉnh Điện Biên'),
 ('12','Tỉnh Lai Châu'),('14','Tỉnh Sơn La'),('15','Tỉnh Lào Cai'),('19','Tỉnh Thái Nguyên'),
 ('20','Tỉnh Lạng Sơn'),('22','Tỉnh Quảng Ninh'),('24','Tỉnh Bắc Ninh'),('25','Tỉnh Phú Thọ'),
 ('31','Thành phố Hải Phòng'),('33','Tỉnh Hưng Yên'),('37','Tỉnh Ninh Bình'),('38','Tỉnh Thanh Hóa'),
 ('40','Tỉnh Nghệ An'),('42','Tỉnh Hà Tĩnh'),('44','Tỉnh Quảng Trị'),('46','Thành phố Huế'),
 ('48','Thành phố Đà Nẵng'),('51','Tỉnh Quảng Ngãi'),('52','Tỉnh Gia Lai'),('56','Tỉnh Khánh Hòa'),
 ('66','Tỉnh Đắk Lắk'),('68','Tỉnh Lâm Đồng'),('75','Tỉnh Đồng Nai'),('79','Thành phố Hồ Chí Minh'),
 ('80','Tỉnh Tây Ninh'),('82','Tỉnh Đồng Tháp'),('86','Tỉnh Vĩnh Long'),('91','Tỉnh An Giang'),
 ('92','Thành phố Cần Thơ'),('96','Tỉnh Cà Mau');

INSERT INTO legacy_province (code, name, successor_code) VALUES
 ('01','Thành phố Hà Nội','01'),('02','Tỉnh Hà Giang','08'),('04','Tỉnh Cao Bằng','04'),
 ('06','Tỉnh Bắc Kạn','19'),('08','Tỉnh Tuyên Quang','08'),('10','Tỉnh Lào Cai','15'),
 ('11','Tỉnh Điện Biên','11'),('12','Tỉnh Lai Châu','12'),('14','Tỉnh Sơn La','14'),
 ('15','Tỉnh Yên Bái','15'),('17','Tỉnh Hòa Bình','25'),('19','Tỉnh Thái Nguyên','19'),
 ('20','Tỉnh Lạng Sơn','20'),('22','Tỉnh Quảng Ninh','22'),('24','Tỉnh Bắc Giang','24'),
 ('25','Tỉnh Phú Thọ','25'),('26','Tỉnh Vĩnh Phúc','25'),('27','Tỉnh Bắc Ninh','24'),
 ('30','Tỉnh Hải Dương','31'),('31','Thành phố Hải Phòng','31'),('33','Tỉnh Hưng Yên','33'),
 ('34','Tỉnh Thái Bình','33'),('35','Tỉnh Hà Nam','37'),('36','Tỉnh Nam Định','37'),
 ('37','Tỉnh Ninh Bình','37'),('38','Tỉnh Thanh Hóa','38'),('40','Tỉnh Nghệ An','40'),
 ('42','Tỉnh Hà Tĩnh','42'),('44','Tỉnh Quảng Bình','44'),('45','Tỉnh Quảng Trị','44'),
 ('46','Tỉnh Thừa Thiên Huế','46'),('48','Thành phố Đà Nẵng','48'),('49','Tỉnh Quảng Nam','48'),
 ('51','Tỉnh Quảng Ngãi','51'),('52','Tỉnh Bình Định','52'),('54','Tỉnh Phú Yên','66'),
 ('56','Tỉnh Khánh Hòa','56'),('58','Tỉnh Ninh Thuận','56'),('60','Tỉnh Bình Thuận','68'),
 ('62','Tỉnh Kon Tum','51'),('64','Tỉnh Gia Lai','52'),('66','Tỉnh Đắk Lắk','66'),
 ('67','Tỉnh Đắk Nông','68'),('68','Tỉnh Lâm Đồng','68'),('70','Tỉnh Bình Phước','75'),
 ('72','Tỉnh Tây Ninh','80'),('74','Tỉnh Bình Dương','79'),('75','Tỉnh Đồng Nai','75'),
 ('77','Tỉnh Bà Rịa - Vũng Tàu','79'),('79','Thành phố Hồ Chí Minh','79'),('80','Tỉnh Long An','80'),
 ('82','Tỉnh Tiền Giang','82'),('83','Tỉnh Bến Tre','86'),('84','Tỉnh Trà Vinh','86'),
 ('86','Tỉnh Vĩnh Long','86'),('87','Tỉnh Đồng Tháp','82'),('89','Tỉnh An Giang','91'),
 ('91','Tỉnh Kiên Giang','91'),('92','Thành phố Cần Thơ','92'),('93','Tỉnh Hậu Giang','92'),
 ('94','Tỉnh Sóc Trăng','92'),('95','Tỉnh Bạc Liêu','96'),('96','Tỉnh Cà Mau','96');

-- Ranks with their pay groups (Decree 204/2004/ND-CP ladders).
INSERT INTO rank (code, name, category, pay_group, first_coefficient, step_increment, steps) VALUES
 ('01.001','Chuyên viên cao cấp','civil_servant','A3.1',6.20,0.36,6),
 ('01.002','Chuyên viên chính','civil_servant','A2.1',4.40,0.34,8),
 ('01.003','Chuyên viên','civil_servant','A1',2.34,0.33,9),
 ('01.004','Cán sự','civil_servant','A0',2.10,0.31,10),
 ('01.005','Nhân viên','civil_servant','B',1.86,0.20,12),
 ('04.023','Thanh tra viên','civil_servant','A1',2.34,0.33,9),
 ('04.024','Thanh tra viên chính','civil_servant','A2.1',4.40,0.34,8),
 ('06.031','Kế toán viên','civil_servant','A1',2.34,0.33,9),
 ('06.030','Kế toán viên chính','civil_servant','A2.1',4.40,0.34,8),
 ('06.038','Kiểm tra viên thuế','civil_servant','A1',2.34,0.33,9),
 ('V.07.01.01','Giảng viên cao cấp (hạng I)','public_employee','A3.1',6.20,0.36,6),
 ('V.07.01.02','Giảng viên chính (hạng II)','public_employee','A2.1',4.40,0.34,8),
 ('V.07.01.03','Giảng viên (hạng III)','public_employee','A1',2.34,0.33,9),
 ('V.07.05.13','Giáo viên trung học phổ thông hạng I','public_employee','A2.1',4.40,0.34,8),
 ('V.07.05.14','Giáo viên trung học phổ thông hạng II','public_employee','A2.2',4.00,0.34,8),
 ('V.07.05.15','Giáo viên trung học phổ thông hạng III','public_employee','A1',2.34,0.33,9),
 ('V.08.01.01','Bác sĩ cao cấp (hạng I)','public_employee','A3.1',6.20,0.36,6),
 ('V.08.01.02','Bác sĩ chính (hạng II)','public_employee','A2.1',4.40,0.34,8),
 ('V.08.01.03','Bác sĩ (hạng III)','public_employee','A1',2.34,0.33,9),
 ('V.08.05.12','Điều dưỡng hạng II','public_employee','A2.2',4.00,0.34,8),
 ('V.08.05.13','Điều dưỡng hạng III','public_employee','A1',2.34,0.33,9);

INSERT INTO salary_ladder (rank_code, step, coefficient)
SELECT r.code, s.step, r.first_coefficient + r.step_increment * (s.step - 1)
FROM rank r CROSS JOIN LATERAL generate_series(1, r.steps) AS s(step);

INSERT INTO position (code, name, leadership, allowance_coefficient) VALUES
 ('BO_TRUONG','Bộ trưởng',true,1.30),
 ('THU_TRUONG','Thứ trưởng',true,1.10),
 ('VU_TRUONG','Vụ trưởng',true,1.00),
 ('PHO_VU_TRUONG','Phó Vụ trưởng',true,0.80),
 ('CHU_TICH_UBND','Chủ tịch Ủy ban nhân dân',true,1.25),
 ('PHO_CHU_TICH_UBND','Phó Chủ tịch Ủy ban nhân dân',true,1.05),
 ('GIAM_DOC_SO','Giám đốc Sở',true,0.90),
 ('PHO_GIAM_DOC_SO','Phó Giám đốc Sở',true,0.70),
 ('CHANH_VAN_PHONG','Chánh Văn phòng',true,0.70),
 ('TRUONG_PHONG','Trưởng phòng',true,0.60),
 ('PHO_TRUONG_PHONG','Phó Trưởng phòng',true,0.40),
 ('HIEU_TRUONG','Hiệu trưởng',true,0.70),
 ('GIAM_DOC_BENH_VIEN','Giám đốc bệnh viện',true,0.90),
 ('CHUYEN_VIEN','Chuyên viên',false,0),
 ('THANH_TRA_VIEN','Thanh tra viên',false,0),
 ('KE_TOAN','Kế toán',false,0),
 ('GIANG_VIEN','Giảng viên',false,0),
 ('GIAO_VIEN','Giáo viên',false,0),
 ('BAC_SI','Bác sĩ',false,0),
 ('DIEU_DUONG','Điều dưỡng',false,0),
 ('NHAN_VIEN','Nhân viên',false,0);

-- Discipline forms (Law on Cadres and Civil Servants; Law on Public Employees; Decree
-- 112/2020/ND-CP). applies_to: the categories the form may be imposed on.
INSERT INTO discipline_form (code, name, severity, applies_to, appointment_bar_months) VALUES
 ('reprimand','Khiển trách',1,ARRAY['cadre','civil_servant','public_employee'],6),
 ('warning','Cảnh cáo',2,ARRAY['cadre','civil_servant','public_employee'],12),
 ('salary_step_reduction','Hạ bậc lương',3,ARRAY['civil_servant'],12),
 ('demotion','Giáng chức',4,ARRAY['civil_servant'],18),
 ('dismissal_from_post','Cách chức',5,ARRAY['cadre','civil_servant','public_employee'],24),
 ('forced_resignation','Buộc thôi việc',6,ARRAY['civil_servant','public_employee'],NULL),
 ('removal_from_office','Bãi nhiệm',6,ARRAY['cadre'],NULL);

INSERT INTO evaluation_grade (code, name, ordinal) VALUES
 ('excellent','Hoàn thành xuất sắc nhiệm vụ',1),
 ('good','Hoàn thành tốt nhiệm vụ',2),
 ('complete','Hoàn thành nhiệm vụ',3),
 ('incomplete','Không hoàn thành nhiệm vụ',4);
