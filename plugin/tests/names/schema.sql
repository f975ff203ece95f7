-- SQL names that are not Python names, for plugin/tests/test_names.py.
CREATE TYPE "order status" AS ENUM ('in-progress', '2nd try', 'class');

CREATE TABLE "x-venues" (
    id int PRIMARY KEY,
    "venue name" text NOT NULL,
    "class" text,
    "2fa code" text,
    "list" int,
    "date" date,
    status "order status" NOT NULL
);

CREATE TABLE "2fa codes" (
    id int PRIMARY KEY,
    code text NOT NULL
);

CREATE TABLE counters (
    id int PRIMARY KEY,
    count int NOT NULL,
    index int NOT NULL,
    json text,
    schema text,
    model_config text,
    model_name text,
    class text
);
