# Shared by scripts/run and scripts/test: a project-local virtual environment with exactly
# the versions in uv.lock (uv, itself pinned, installs them), refreshed when the lock or
# pyproject.toml changes. Nothing is installed outside .venv/.
UV_VERSION="0.13.9"

ensure_venv() {
    local extras="$1"  # "" to run the bot, "dev" for the tests and checks too
    local stamp=".venv/.installed-${extras:-run}"
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv
    fi
    if [ ! -f "$stamp" ] || [ uv.lock -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        local log=.venv/install.log
        # The install's own chatter goes to a log, shown only when something fails.
        if ! { .venv/bin/python -m pip install --quiet "uv==${UV_VERSION}" &&
               .venv/bin/uv sync --locked --inexact --python .venv/bin/python \
                   ${extras:+--extra test --extra dev}; } >"$log" 2>&1; then
            cat "$log" >&2
            echo "scripts: installing from uv.lock failed (the log is above)" >&2
            exit 1
        fi
        rm -f .venv/.installed-*
        touch "$stamp"
    fi
}
