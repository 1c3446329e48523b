import IstioCapture

/// The injector's verdict on one pod, with the reason a user would want to read.
public struct InjectionDecision: Hashable, Sendable {
    public var inject: Bool
    public var reason: String
    /// The webhook that sends the pod to the injector (nil when none selects it).
    public var webhook: String?
    /// The injector refuses the pod (invalid annotation): with `failurePolicy: Fail` it is not created.
    public var rejected: Bool

    public init(inject: Bool, reason: String, webhook: String? = nil, rejected: Bool = false) {
        self.inject = inject
        self.reason = reason
        self.webhook = webhook
        self.rejected = rejected
    }
}

/// Where the istio-init arguments of a report come from.
public enum ArgumentSource: Hashable, Sendable {
    /// Rendered from the release's injection template (the pod is not injected yet).
    case injectionTemplate
    /// Read from the injected pod's init container of that name.
    case initContainer(String)
}

/// Everything `iptsim pod` says about one pod.
public struct PodReport: Hashable, Sendable {
    public var pod: Pod
    public var version: IstioVersion
    public var decision: InjectionDecision
    /// The istio-init plan; nil when the pod gets no istio-init (not injected, or mode NONE).
    public var plan: IstioInitPlan?
    public var source: ArgumentSource?
    /// Pod annotations and labels that took part in the decision or the arguments.
    public var annotationsUsed: [String: String]
    public var notes: [String]
}

/// A release's sidecar injector: the webhook selectors, `injectRequired` and the template.
public struct Injector: Sendable {
    public let behaviour: InjectorBehaviour
    public let values: InjectorValues
    /// `enabled`, `disabled`, or anything else (which istiod treats as off).
    public let policy: String
    public let policyOrigin: ValueOrigin
    /// The control plane's revision ("" for the default one).
    public let revision: String
    public let neverInjectSelector: [LabelSelector]
    public let alwaysInjectSelector: [LabelSelector]

    public init(
        version: IstioVersion, values: InjectorValues? = nil, policy: String? = nil, revision: String? = nil,
        neverInjectSelector: [LabelSelector] = [], alwaysInjectSelector: [LabelSelector] = []
    ) {
        behaviour = InjectorBehaviour(version)
        let values = values ?? InjectorValues(behaviour: behaviour)
        self.values = values
        let valuesPolicy = values.lookup("global.proxy.autoInject")
        self.policy = policy ?? valuesPolicy.text
        policyOrigin = policy.map { ValueOrigin(.values, "--injector-policy", $0) } ?? valuesPolicy.origin
        let valuesRevision = values.lookup("revision").text
        self.revision = revision ?? (valuesRevision == "<nil>" ? "" : valuesRevision)
        self.neverInjectSelector = neverInjectSelector
        self.alwaysInjectSelector = alwaysInjectSelector
    }

    public var webhooks: [InjectorWebhook] {
        InjectorWebhook.configuration(
            revision: revision,
            enableNamespacesByDefault: values.isTrue("sidecarInjectorWebhook.enableNamespacesByDefault"),
            behaviour: behaviour)
    }

    /// Decides on `pod` and gives its istio-init arguments. `namespace` nil means its labels are
    /// not known (treated as unlabelled, and said so).
    public func analyze(_ pod: Pod, namespace: Namespace?) -> PodReport {
        let reads = InjectionTemplate.Reads()
        let template = InjectionTemplate(behaviour: behaviour, values: values)
        var report = PodReport(
            pod: pod, version: behaviour.version, decision: InjectionDecision(inject: false, reason: ""),
            plan: nil,
            source: nil, annotationsUsed: [:], notes: [])
        if let injected = injectedEvidence(pod) {
            report.decision = InjectionDecision(
                inject: true,
                reason: "already injected (\(injected)); the injector acts only when a pod is created")
            if let status = pod.metadata.annotations[AnnotationKey.status] {
                report.annotationsUsed[AnnotationKey.status] = status
            }
            if let container = pod.initContainer(named: "istio-init") {
                report.plan = readBack(
                    container, pod: pod, namespace: namespace, template: template, reads: reads)
                report.source = .initContainer(container.name)
            } else if pod.initContainer(named: "istio-validation") != nil {
                report.notes.append(
                    "CNI mode: init container istio-validation only checks the rules; the istio-cni plugin writes them from the pod's annotations (not modelled yet)"
                )
            } else {
                report.notes.append("no istio-init container: the pod gets no iptables rules from istio-init")
            }
            report.annotationsUsed.merge(reads.annotations) { first, _ in first }
            return report
        }
        report.decision = decide(pod, namespace: namespace, reads: reads)
        if report.decision.inject {
            report.plan = template.render(pod, namespace: namespace, reads: reads)
            report.source = .injectionTemplate
            if report.plan == nil {
                report.notes.append(
                    "interception mode NONE: the template adds no istio-init container, so no iptables rules")
            } else if report.plan?.cniEnabled == true {
                report.notes.append(
                    "CNI enabled: istio-validation only checks; the istio-cni plugin writes the rules from the pod's annotations"
                )
            }
        }
        report.annotationsUsed.merge(reads.annotations) { first, _ in first }
        return report
    }

    /// Why the pod counts as injected already, or nil.
    func injectedEvidence(_ pod: Pod) -> String? {
        var evidence: [String] = []
        if pod.metadata.annotations[AnnotationKey.status] != nil {
            evidence.append("annotation \(AnnotationKey.status)")
        }
        for name in ["istio-init", "istio-validation"] where pod.initContainer(named: name) != nil {
            evidence.append("init container \(name)")
        }
        if pod.spec.containers.contains(where: { $0.name == "istio-proxy" }) {
            evidence.append("container istio-proxy")
        }
        return evidence.isEmpty ? nil : evidence.joined(separator: ", ")
    }

    /// The arguments an injected pod's istio-init runs, each traced back through the template
    /// when the template gives the same value.
    func readBack(
        _ container: Container, pod: Pod, namespace: Namespace?, template: InjectionTemplate,
        reads: InjectionTemplate.Reads
    ) -> IstioInitPlan {
        let words = container.command + container.args
        let start =
            words.firstIndex { $0 == "istio-iptables" || $0.hasSuffix("/istio-iptables") }.map { $0 + 1 } ?? 0
        let arguments = Array(words[start...])
        let rendered = template.render(pod, namespace: namespace, reads: reads)
        var origins: [String: [ValueOrigin]] = [:]
        var index = 0
        while index < arguments.count {
            let flag = arguments[index]
            let value = index + 1 < arguments.count ? arguments[index + 1] : ""
            let renderedValue = rendered.flatMap { plan in
                plan.arguments.firstIndex(of: flag).flatMap {
                    $0 + 1 < plan.arguments.count ? plan.arguments[$0 + 1] : nil
                }
            }
            if flag.hasPrefix("-"), !flag.contains("=") {
                if let renderedValue, renderedValue == value, let from = rendered?.origins[flag] {
                    origins[flag] = from
                } else {
                    origins[flag] = [ValueOrigin(.initContainer, container.name, value)]
                }
                index += 2
            } else {
                index += 1
            }
        }
        var environment: [String: String] = [:]
        for (name, value) in container.env { environment[name] = value }
        return IstioInitPlan(
            containerName: container.name, arguments: arguments, origins: origins, environment: environment,
            cniEnabled: false)
    }

    /// The webhook selection, then `injectRequired` as the release has it.
    func decide(_ pod: Pod, namespace: Namespace?, reads: InjectionTemplate.Reads) -> InjectionDecision {
        let namespaceName = pod.namespace
        if pod.spec.hostNetwork {
            return InjectionDecision(
                inject: false,
                reason:
                    "hostNetwork: true: the injector never injects host-network pods (istio-init would rewrite the node's iptables)"
            )
        }
        if behaviour.ignoredNamespaces.contains(namespaceName) {
            return InjectionDecision(
                inject: false,
                reason:
                    "namespace \(namespaceName) is never injected (the injector skips \(behaviour.ignoredNamespaces.joined(separator: ", ")))"
            )
        }
        let namespaceLabels = (namespace ?? Namespace(name: namespaceName)).selectorLabels
        let podLabels = pod.metadata.labels
        for key in [AnnotationKey.inject, AnnotationKey.revisionLabel] {
            if let value = podLabels[key] { reads.annotations["label \(key)"] = value }
        }
        guard
            let webhook = webhooks.first(where: {
                $0.matches(namespaceLabels: namespaceLabels, podLabels: podLabels)
            })
        else {
            return InjectionDecision(
                inject: false,
                reason: noWebhookReason(namespace: namespace, name: namespaceName, podLabels: podLabels))
        }
        let selected = selectionReason(
            webhook, namespaceName: namespaceName, namespaceLabels: namespaceLabels, podLabels: podLabels)

        // injectRequired: the explicit choice, then the never/always selectors, then the policy.
        let explicit = explicitChoice(pod, reads: reads)
        var inject = false
        var useDefault = true
        var why = ""
        switch explicit {
        case .some(let choice):
            inject = choice.inject
            useDefault = choice.useDefault
            why = choice.reason
        case .none: break
        }
        if useDefault,
            let selector = neverInjectSelector.first(where: { !$0.isEmpty && $0.matches(podLabels) })
        {
            inject = false
            useDefault = false
            why = "pod labels match the injector's neverInjectSelector (\(selector))"
        }
        if useDefault,
            let selector = alwaysInjectSelector.first(where: { !$0.isEmpty && $0.matches(podLabels) })
        {
            inject = true
            useDefault = false
            why = "pod labels match the injector's alwaysInjectSelector (\(selector))"
        }
        // A choice that did not count (an unreadable value, a label this release ignores) is still worth saying.
        let aside = useDefault && !why.isEmpty ? "; \(why)" : ""
        let reason: String
        let required: Bool
        switch policy {
        case "enabled":
            required = useDefault ? true : inject
            reason =
                useDefault
                ? "\(selected); injector policy enabled (\(policyOrigin)): pods are injected unless they opt out\(aside)"
                : "\(why); \(selected); policy enabled"
        case "disabled":
            required = useDefault ? false : inject
            reason =
                useDefault
                ? "injector policy disabled (\(policyOrigin)): only pods that opt in with \(AnnotationKey.inject): \"true\" are injected, and this one does not; \(selected)\(aside)"
                : "\(why); \(selected); policy disabled"
        default:
            required = false
            reason =
                "injector policy \"\(policy)\" is neither enabled nor disabled: istiod turns auto-injection off"
        }
        if required {
            let problems = AnnotationValidation.problems(pod.metadata.annotations, behaviour)
            if !problems.isEmpty {
                return InjectionDecision(
                    inject: false,
                    reason:
                        "rejected: the injector refuses the pod and the webhook's failurePolicy is Fail, so the API server does not create it: "
                        + problems.joined(separator: "; "),
                    webhook: webhook.name, rejected: true)
            }
        }
        return InjectionDecision(inject: required, reason: reason, webhook: webhook.name)
    }

    struct ExplicitChoice {
        var inject: Bool
        var useDefault: Bool
        var reason: String
    }

    /// `sidecar.istio.io/inject` as this release's `injectRequired` reads it; nil when absent or empty.
    func explicitChoice(_ pod: Pod, reads: InjectionTemplate.Reads) -> ExplicitChoice? {
        let annotation = pod.metadata.annotations[AnnotationKey.inject]
        let label = pod.metadata.labels[AnnotationKey.inject]
        if let annotation { reads.annotations[AnnotationKey.inject] = annotation }
        var value = annotation ?? ""
        var source = "annotation \(AnnotationKey.inject): \"\(value)\""
        if behaviour.explicitChoice != .annotationYAMLBool, let label {
            value = label
            source = "label \(AnnotationKey.inject): \"\(label)\""
        }
        let ignoredLabel =
            behaviour.explicitChoice == .annotationYAMLBool && label != nil
            ? " (this release reads the annotation only; the label \(AnnotationKey.inject) just selects the webhook)"
            : ""
        if value.isEmpty {
            return ignoredLabel.isEmpty
                ? nil
                : ExplicitChoice(
                    inject: false, useDefault: true, reason: String(ignoredLabel.dropFirst(2).dropLast()))
        }
        switch behaviour.explicitChoice {
        case .annotationYAMLBool, .labelOverAnnotationYAMLBool:
            if ["y", "yes", "true", "on"].contains(value.lowercased()) {
                return ExplicitChoice(inject: true, useDefault: false, reason: "\(source) opts the pod in")
            }
            return ExplicitChoice(
                inject: false, useDefault: false, reason: "\(source) opts the pod out\(ignoredLabel)")
        case .labelOverAnnotationStrict:
            switch value {
            case "true":
                return ExplicitChoice(inject: true, useDefault: false, reason: "\(source) opts the pod in")
            case "false":
                return ExplicitChoice(inject: false, useDefault: false, reason: "\(source) opts the pod out")
            default:
                return ExplicitChoice(
                    inject: false, useDefault: true,
                    reason:
                        "\(source) is neither \"true\" nor \"false\", so this release falls back to the policy"
                )
            }
        }
    }

    func selectionReason(
        _ webhook: InjectorWebhook, namespaceName: String, namespaceLabels: [String: String],
        podLabels: [String: String]
    ) -> String {
        let via = "so webhook \(webhook.name) calls the injector"
        switch webhook.name {
        case "namespace.sidecar-injector.istio.io":
            return "namespace \(namespaceName) is labelled istio-injection=enabled, \(via)"
        case "rev.namespace.sidecar-injector.istio.io":
            return
                "namespace \(namespaceName) is labelled istio.io/rev=\(namespaceLabels[AnnotationKey.revisionLabel] ?? ""), \(via)"
        case "rev.object.sidecar-injector.istio.io":
            return "pod label istio.io/rev=\(podLabels[AnnotationKey.revisionLabel] ?? ""), \(via)"
        case "object.sidecar-injector.istio.io":
            return "pod label sidecar.istio.io/inject=true in an unlabelled namespace, \(via)"
        default:
            return "enableNamespacesByDefault selects unlabelled namespaces, \(via)"
        }
    }

    func noWebhookReason(namespace: Namespace?, name: String, podLabels: [String: String]) -> String {
        let labels = namespace?.metadata.labels ?? [:]
        let unknown =
            namespace == nil ? " (its labels are unknown: give --namespace or --namespace-labels)" : ""
        let rev = revision.isEmpty ? "default" : revision
        if podLabels[AnnotationKey.inject] == "false" {
            return
                "pod label sidecar.istio.io/inject=false: every injector webhook's objectSelector excludes it"
        }
        if let injection = labels[AnnotationKey.injectionLabel] {
            if injection == "enabled" && !revision.isEmpty {
                return
                    "namespace \(name) is labelled istio-injection=enabled, but this injector is revision \(revision), whose webhooks select only istio.io/rev=\(revision)"
            }
            return
                "namespace \(name) is labelled istio-injection=\(injection) (only \"enabled\" injects): no injector webhook selects it"
        }
        if let nsRev = labels[AnnotationKey.revisionLabel], nsRev != rev {
            return "namespace \(name) is labelled istio.io/rev=\(nsRev), but this injector is revision \(rev)"
        }
        if let podRev = podLabels[AnnotationKey.revisionLabel], podRev != rev {
            return "pod label istio.io/rev=\(podRev), but this injector is revision \(rev)"
        }
        return
            "namespace \(name) has no istio-injection=enabled or istio.io/rev=\(rev) label\(unknown), and the pod no sidecar.istio.io/inject=true or istio.io/rev label: no injector webhook selects it"
    }
}
