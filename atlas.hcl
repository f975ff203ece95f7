// Atlas project file. The nox sessions pass the URLs as variables; by hand:
//   atlas migrate apply --env local --var url="$DATABASE_URL"
//   atlas migrate diff NAME --env local --var url="$DATABASE_URL" --var dev_url="postgres://…/scratch"
// The dev database must be a separate, empty database: Atlas creates and
// drops objects in it. It is never the target.

variable "url" {
  type    = string
  default = getenv("DATABASE_URL")
}

variable "dev_url" {
  type    = string
  default = getenv("ATLAS_DEV_URL")
}

env "local" {
  src = "file://schema.sql"
  url = var.url
  dev = var.dev_url
  migration {
    dir = "file://migrations"
  }
}
