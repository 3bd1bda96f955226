-- A role and database for radqc; run as a superuser: psql -f deploy/postgres/init.sql
-- Then: RADQC_DATABASE_URL=postgresql+psycopg://radqc:CHANGE-ME@db-host/radqc radqc migrate
CREATE ROLE radqc LOGIN PASSWORD 'CHANGE-ME';
CREATE DATABASE radqc OWNER radqc;
