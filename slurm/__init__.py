"""Not code: the cluster profiles (profiles/*.yaml) and DeepSpeed configs (deepspeed/*.json), installed as the
package data `sweeps.site` (pyproject.toml) so an installed gr-scaling finds them (scaling.shipped)."""
