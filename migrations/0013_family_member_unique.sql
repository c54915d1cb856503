-- A relative is declared once per employee: the same personal ID twice in one employee's
-- family is refused by the hub's checks (DUPLICATE, naming the entry to correct instead), and
-- here as well, for two declarations racing each other.
CREATE UNIQUE INDEX family_member_person_idx ON family_member (employee_code, personal_id)
    WHERE personal_id IS NOT NULL;
