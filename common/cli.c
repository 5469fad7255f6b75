/* The command-line frame of examroom and examcenter: global options, the
 * command table, help, and the exit-status convention (0 success, 1 a failure
 * with its sentence, 2 bad usage). */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_program_help(const struct cli_program *prog, FILE *to)
{
    fprintf(to, "%s — %s\n\n", prog->name, prog->summary);
    fprintf(to, "用法: %s [--data 目录] [--json] [--verbose|--quiet] 命令 [参数...]\n\n",
            prog->name);
    fprintf(to, "命令:\n");
    for (const struct cli_command *c = prog->commands; c->name != NULL; c++)
        fprintf(to, "  %s %s\n      %s\n", c->name, c->args, c->summary);
    fprintf(to,
            "\n全局选项:\n"
            "  --data 目录   数据目录（默认取环境变量 %s，否则 %s）\n"
            "  --json        以 JSON 输出数据\n"
            "  --verbose     输出调试日志；--quiet 只输出错误\n"
            "  --help        显示本帮助；命令 --help 显示该命令的用法\n"
            "  --version     显示版本\n"
            "\n退出码: 0 成功；1 操作失败（原因见错误信息）；2 用法错误。\n",
            prog->data_env, prog->data_default);
}

static void print_command_help(const struct cli_ctx *ctx, FILE *to)
{
    fprintf(to, "用法: %s %s %s\n%s\n", ctx->program, ctx->cmd->name, ctx->cmd->args,
            ctx->cmd->summary);
}

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}

int cli_fail(const struct cli_ctx *ctx, int code)
{
    fprintf(stderr, "%s: %s\n", ctx->program, er_strerror(code));
    if (code == ER_USAGE && ctx->cmd != NULL)
        print_command_help(ctx, stderr);
    return code == ER_USAGE ? 2 : 1;
}

int cli_fail_detail(const struct cli_ctx *ctx, int code, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", ctx->program);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return cli_fail(ctx, code);
}

int cli_unavailable(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_fail_detail(ctx, ER_UNAVAILABLE, "“%s”命令尚未提供。", ctx->cmd->name);
}

const char *cli_option(int argc, char **argv, const char *name, int *bad)
{
    const char *value = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], name) != 0)
            continue;
        if (i + 1 >= argc || value != NULL) {
            *bad = 1;
            return NULL;
        }
        value = argv[++i];
    }
    return value;
}

int cli_check_options(int argc, char **argv, int first, const char *const *names)
{
    for (int i = first; i < argc; i++) {
        int known = 0;

        for (const char *const *n = names; *n != NULL; n++)
            if (strcmp(argv[i], *n) == 0)
                known = 1;
        if (!known)
            return ER_USAGE;
        i++; /* its value */
        if (i >= argc)
            return ER_USAGE;
    }
    return 0;
}

static const struct cli_command *find_command(const struct cli_program *prog, const char *name)
{
    for (const struct cli_command *c = prog->commands; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

int cli_main(const struct cli_program *prog, int argc, char **argv)
{
    struct cli_ctx ctx = {.program = prog->name};
    int i;

    log_init(prog->name);
    ctx.data_dir = getenv(prog->data_env);
    if (ctx.data_dir == NULL || ctx.data_dir[0] == '\0')
        ctx.data_dir = prog->data_default;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_program_help(prog, stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("%s %s\n", prog->name, prog->version);
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            ctx.json = 1;
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            log_set_level(LOG_LEVEL_DEBUG);
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            log_set_level(LOG_LEVEL_ERROR);
        } else if (strcmp(a, "--data") == 0 && i + 1 < argc) {
            ctx.data_dir = argv[++i];
        } else if (strncmp(a, "--data=", 7) == 0) {
            ctx.data_dir = a + 7;
        } else {
            fprintf(stderr, "%s: 未知的选项“%s”。\n", prog->name, a);
            fprintf(stderr, "%s: 运行 %s --help 查看用法。\n", prog->name, prog->name);
            return 2;
        }
    }
    if (i == argc) {
        print_program_help(prog, stderr);
        return 2;
    }
    ctx.cmd = find_command(prog, argv[i]);
    if (ctx.cmd == NULL) {
        fprintf(stderr, "%s: 没有“%s”这个命令。运行 %s --help 查看全部命令。\n", prog->name,
                argv[i], prog->name);
        return 2;
    }
    if (wants_help(argc - i, argv + i)) {
        print_command_help(&ctx, stdout);
        return 0;
    }
    return ctx.cmd->run(&ctx, argc - i, argv + i);
}
