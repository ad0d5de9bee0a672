using System.Reflection;
using System.Reflection.Emit;

namespace HotDtls.Tests.Architecture;

/// <summary>
/// The folders of src/HotDtls depend on each other in one direction only (docs/design.md, "Dependencies"): every
/// reference the assembly's code makes — signatures, fields, base types and the IL of every method body — is read by
/// reflection and mapped to its namespace, and the resulting graph must follow the layer order below, hence have no
/// cycle. The root namespace is two layers: its vocabulary (options, enums, the session, the handler, exceptions),
/// which everything may use and which uses nothing inside, and its two entry points, which use everything.
/// </summary>
public sealed class NamespaceDependencyTests
{
    private const string Vocabulary = "HotDtls";
    private const string EntryPoints = "HotDtls (entry points)";

    /// <summary>Bottom first: a component may reference its own layer and the ones before it.</summary>
    private static readonly string[] s_layers =
    [
        Vocabulary,
        "HotDtls.Diagnostics",
        "HotDtls.Transport",
        "HotDtls.Crypto",
        "HotDtls.Records",
        "HotDtls.Cluster",
        "HotDtls.Handshake",
        "HotDtls.Cookies",
        "HotDtls.Connection",
        "HotDtls.Server",
        "HotDtls.Client",
        EntryPoints,
    ];

    private static readonly HashSet<string> s_entryPoints = [nameof(DtlsServer), nameof(DtlsClient)];

    private static readonly Assembly s_assembly = typeof(DtlsServer).Assembly;

    [Fact]
    public void Every_type_belongs_to_a_known_layer()
    {
        foreach (var type in s_assembly.GetTypes())
        {
            var component = ComponentOf(type);
            Assert.True(component is null || Array.IndexOf(s_layers, component) >= 0,
                $"{type.FullName} is in {component}, which is not a layer of NamespaceDependencyTests (add it to docs/design.md too)");
        }
    }

    [Fact]
    public void References_only_go_down_the_layers()
    {
        var violations = new List<string>();
        foreach (var (from, to, example) in Edges())
        {
            if (Array.IndexOf(s_layers, from) < Array.IndexOf(s_layers, to))
            {
                violations.Add($"{from} -> {to} ({example})");
            }
        }

        Assert.True(violations.Count == 0, "upward references:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void The_namespace_graph_has_no_cycle()
    {
        var graph = new Dictionary<string, HashSet<string>>();
        foreach (var (from, to, _) in Edges())
        {
            if (!graph.TryGetValue(from, out var targets))
            {
                graph[from] = targets = [];
            }
            targets.Add(to);
        }

        var cycle = FindCycle(graph);

        Assert.True(cycle is null, $"namespace cycle: {string.Join(" -> ", cycle ?? [])}");
    }

    [Fact]
    public void The_scan_sees_references_made_only_inside_method_bodies()
    {
        // Control: the engine creates HelloGate only in its constructor's body (a field of that type exists too,
        // but the scan must not depend on it): Server -> Cookies must be found through IL as well.
        var found = new HashSet<(string, string)>();
        foreach (var method in typeof(HotDtls.Server.ServerEngine).GetConstructors(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            foreach (var referenced in ReferencedTypes(method))
            {
                if (ComponentOf(referenced) is { } component)
                {
                    found.Add(("HotDtls.Server", component));
                }
            }
        }

        Assert.Contains(("HotDtls.Server", "HotDtls.Cookies"), found);
        Assert.Contains(("HotDtls.Server", "HotDtls.Connection"), found);
    }

    private static IEnumerable<(string From, string To, string Example)> Edges()
    {
        var seen = new HashSet<(string, string)>();
        foreach (var type in s_assembly.GetTypes())
        {
            if (ComponentOf(type) is not { } from)
            {
                continue;
            }
            foreach (var referenced in ReferencedTypes(type))
            {
                if (ComponentOf(referenced) is { } to && to != from && seen.Add((from, to)))
                {
                    yield return (from, to, $"{type.FullName} uses {referenced.FullName}");
                }
            }
        }
    }

    /// <summary>The layer of a type of the HotDtls assembly (by its outermost declaring type); null for other assemblies.</summary>
    private static string? ComponentOf(Type type)
    {
        while (type.HasElementType)
        {
            type = type.GetElementType()!;
        }
        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            type = type.GetGenericTypeDefinition();
        }
        if (type.Assembly != s_assembly || type.IsGenericParameter)
        {
            return null;
        }
        while (type.DeclaringType is { } outer)
        {
            type = outer;
        }
        var ns = type.Namespace;
        if (ns is null)
        {
            // Compiler-generated helpers (<PrivateImplementationDetails>, source-generated attributes) belong to no layer.
            return null;
        }
        return ns == Vocabulary && s_entryPoints.Contains(type.Name) ? EntryPoints : ns;
    }

    private static IEnumerable<Type> ReferencedTypes(Type type)
    {
        const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        var result = new List<Type>();
        if (type.BaseType is { } baseType)
        {
            Add(result, baseType);
        }
        foreach (var implemented in type.GetInterfaces())
        {
            Add(result, implemented);
        }
        foreach (var field in type.GetFields(all))
        {
            Add(result, field.FieldType);
        }
        foreach (var property in type.GetProperties(all))
        {
            Add(result, property.PropertyType);
        }
        foreach (var method in type.GetMethods(all))
        {
            Add(result, method.ReturnType);
            result.AddRange(ReferencedTypes(method));
        }
        foreach (var constructor in type.GetConstructors(all))
        {
            result.AddRange(ReferencedTypes(constructor));
        }
        return result;
    }

    private static List<Type> ReferencedTypes(MethodBase method)
    {
        var result = new List<Type>();
        foreach (var parameter in method.GetParameters())
        {
            Add(result, parameter.ParameterType);
        }
        var body = method.GetMethodBody();
        if (body is null)
        {
            return result;
        }
        foreach (var local in body.LocalVariables)
        {
            Add(result, local.LocalType);
        }
        var il = body.GetILAsByteArray() ?? [];
        var typeArguments = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var offset = 0; offset < il.Length;)
        {
            var code = ReadOpCode(il, ref offset);
            switch (code.OperandType)
            {
                case OperandType.InlineType:
                case OperandType.InlineMethod:
                case OperandType.InlineField:
                case OperandType.InlineTok:
                    var token = BitConverter.ToInt32(il, offset);
                    if (Resolve(method.Module, token, typeArguments, methodArguments) is { } referenced)
                    {
                        Add(result, referenced);
                    }
                    break;
            }
            offset += OperandSize(code.OperandType, il, offset);
        }
        return result;
    }

    private static Type? Resolve(Module module, int token, Type[]? typeArguments, Type[]? methodArguments)
    {
        try
        {
            return module.ResolveMember(token, typeArguments, methodArguments) switch
            {
                Type type => type,
                MethodBase member => member.DeclaringType,
                FieldInfo field => field.DeclaringType is { } declaring && declaring.Assembly == s_assembly ? declaring : field.FieldType,
                _ => null,
            };
        }
        catch (ArgumentException)
        {
            // A token of another kind (a signature or a string): no type to follow.
            return null;
        }
    }

    private static void Add(List<Type> result, Type type)
    {
        while (type.HasElementType)
        {
            type = type.GetElementType()!;
        }
        result.Add(type);
        if (type.IsGenericType)
        {
            foreach (var argument in type.GetGenericArguments())
            {
                if (!argument.IsGenericParameter)
                {
                    Add(result, argument);
                }
            }
        }
    }

    private static readonly OpCode[] s_oneByte = new OpCode[0x100];
    private static readonly OpCode[] s_twoByte = new OpCode[0x100];

#pragma warning disable CA1810 // The opcode tables are filled once from OpCodes' fields.
    static NamespaceDependencyTests()
#pragma warning restore CA1810
    {
        foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var code = (OpCode)field.GetValue(null)!;
            var value = (ushort)code.Value;
            if (value < 0x100)
            {
                s_oneByte[value] = code;
            }
            else if ((value & 0xFF00) == 0xFE00)
            {
                s_twoByte[value & 0xFF] = code;
            }
        }
    }

    private static OpCode ReadOpCode(byte[] il, ref int offset)
    {
        var first = il[offset++];
        return first == 0xFE ? s_twoByte[il[offset++]] : s_oneByte[first];
    }

    private static int OperandSize(OperandType type, byte[] il, int offset) => type switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, offset)),
        _ => 4,
    };

    private static List<string>? FindCycle(Dictionary<string, HashSet<string>> graph)
    {
        var state = new Dictionary<string, int>();
        var path = new List<string>();
        foreach (var start in graph.Keys)
        {
            if (Visit(start) is { } cycle)
            {
                return cycle;
            }
        }
        return null;

        List<string>? Visit(string node)
        {
            if (state.TryGetValue(node, out var mark))
            {
                return mark == 1 ? [.. path.Skip(path.IndexOf(node)), node] : null;
            }
            state[node] = 1;
            path.Add(node);
            foreach (var next in graph.GetValueOrDefault(node) ?? [])
            {
                if (Visit(next) is { } cycle)
                {
                    return cycle;
                }
            }
            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return null;
        }
    }
}
